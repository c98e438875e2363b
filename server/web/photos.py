"""Officials' photos at ``/photos/<name>``, from ``[fleet] photos_dir``.

Open without a login: kiosks fetch them (``kiosk/photos.py``) and have no dashboard
account. Only roster photo files are served (``server.fleet.roster.photo_file``); a photo
shows a face that already hangs at the counter, nothing more.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file

from server.fleet.roster import photo_file

bp = Blueprint("photos", __name__)


@bp.route("/photos/<name>")
def photo(name: str):
    path = photo_file(current_app.config["HAILONG"].fleet.photos_dir, name)
    if path is None:
        abort(404)
    return send_file(path, max_age=3600)
