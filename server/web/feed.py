"""``POST /api/v1/sessions``: the transaction feed's HTTP way in (issue 9).

For the province's one-stop software or a queue-number system: authorised by an
integration token (``Authorization: Bearer TOKEN``, made by ``hailong server
add-token``), not by a dashboard login, so it needs no cookie and no CSRF token.
Every answer is one JSON object; an error is ``{"error": "one line"}`` and nothing
was published. docs/kiosk.md has a curl example.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, request

from server.ingest import feed

log = logging.getLogger(__name__)

bp = Blueprint("feed", __name__, url_prefix="/api/v1")


@bp.route("/sessions", methods=["POST"])
def create_session():
    config = current_app.config["HAILONG"]
    try:
        token = feed.token_for(g.db, request.headers.get("Authorization"))
        # read at most one byte past the limit: a huge body is refused, not buffered
        if (request.content_length or 0) > feed.MAX_BODY_BYTES:
            raise feed.BadRequest(f"body too large ({request.content_length} bytes; at most "
                                  f"{feed.MAX_BODY_BYTES})")
        body = request.stream.read(feed.MAX_BODY_BYTES + 1)
        req = feed.parse_request(body)
        publisher = current_app.extensions.get("hailong_publisher")
        if publisher is None:
            raise feed.NotPublished("this server has no MQTT connection for sessions")
        answer = feed.open_session(g.db, config, req, source=f"token:{token.name}",
                                   publish=publisher, token=token)
    except feed.FeedError as e:
        if e.status >= 500:
            log.error("session not published: %s", e)
        else:
            log.info("session request refused (%d): %s", e.status, e)
        headers = {"WWW-Authenticate": 'Bearer realm="hailong"'} if e.status == 401 else {}
        return {"error": str(e)}, e.status, headers
    return answer, 202
