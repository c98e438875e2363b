"""The leader's accounts page (issue 8): disable / enable, remove, reset the password
of a dashboard account, and link it to the roster official the person also is. Every
action goes to the audit log; a disabled or removed user's sessions end at once.
The same actions exist as ``hailong server disable-user`` etc. (``server/accounts_cli.py``).
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from server import accounts
from server.web import needs
from server.web.i18n import WORDS

bp = Blueprint("users", __name__)

# Kept with the page that uses them so a change here does not touch i18n.py's table.
WORDS.update({
    "users": ("Tài khoản", "Accounts"),
    "role": ("Vai trò", "Role"),
    "state": ("Trạng thái", "State"),
    "user_active": ("Đang dùng", "Active"),
    "user_disabled": ("Đã khóa", "Disabled"),
    "disable": ("Khóa", "Disable"),
    "enable": ("Mở khóa", "Enable"),
    "remove": ("Xóa", "Remove"),
    "reset_password": ("Đặt lại mật khẩu", "Reset password"),
    "new_password": ("Mật khẩu mới (ít nhất 8 ký tự)", "New password (8 characters or more)"),
    "linked_official": ("Là công chức", "Is official"),
    "link": ("Liên kết", "Link"),
    "users_note": ("Người dùng là công chức được đánh giá thì không xử lý được phản ánh về "
                   "chính mình. Khóa hoặc xóa tài khoản sẽ kết thúc ngay các phiên đăng nhập.",
                   "A user who is also a rated official cannot act on their own cases. "
                   "Disabling or removing an account ends its sessions at once."),
    "not_yourself": ("Không thể tự khóa hoặc xóa tài khoản của mình.",
                     "You cannot disable or remove your own account."),
    "own_case_assignee": ("Không giao phản ánh cho chính công chức bị phản ánh.",
                          "A case cannot be assigned to the official it is about."),
    "own_case": ("Đây là phản ánh về chính bạn: bạn không thể xử lý.",
                 "This case is about you: you cannot act on it."),
})


@bp.route("/users")
@needs("accounts")
def users():
    officials = sorted(r[0] for r in g.db.execute("SELECT id FROM officials WHERE active = 1"))
    return render_template("users.html", rows=accounts.users(g.db), officials=officials,
                           error=request.args.get("error"), saved=request.args.get("saved"))


@bp.route("/users/<username>", methods=["POST"])
@needs("accounts")
def user_action(username: str):
    action = request.form.get("action", "")
    by = g.user.username
    if username == by and action in ("disable", "remove"):
        # a leader locking themselves out by one click helps nobody; another leader can
        return redirect(url_for("users.users", error="not_yourself"))
    try:
        if action == "disable":
            accounts.set_disabled(g.db, username, True, by)
        elif action == "enable":
            accounts.set_disabled(g.db, username, False, by)
        elif action == "remove":
            accounts.remove_user(g.db, username, by)
        elif action == "reset":
            accounts.reset_password(g.db, username, request.form.get("password", "")[:256], by)
        elif action == "official":
            accounts.set_official(g.db, username, request.form.get("official") or None, by)
        else:
            abort(400)
    except accounts.AccountError as e:
        return redirect(url_for("users.users", error=str(e)))
    return redirect(url_for("users.users", saved=1))
