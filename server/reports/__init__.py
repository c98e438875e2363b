"""Reports and letters: daily figures, the period reports (XLSX, CSV, DOCX, PDF) and the
letters to citizens, in the formats Vietnamese administration files."""
