"""The province server (issue 12): every commune's forwarded ratings in one PostgreSQL
store, ingested from the province broker exactly once."""
