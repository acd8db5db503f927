"""Search: a GET form (so results can be bookmarked, paged and reloaded) and its results."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from webmail.services import mail
from webmail.services import search as search_service
from webmail.services.access import require_mailbox
from webmail.template_filters import folder_label

bp = Blueprint("search", __name__, url_prefix="/b/<mailbox>")


@bp.get("/_search")
@login_required
def results(mailbox: str):
    access = require_mailbox(mailbox)
    query = search_service.parse_query(request.args)
    found = search_service.run(access, query) if query.ready else None
    folders = mail.list_folders(access)
    labels = {f.name: folder_label(f) for f in folders}
    if request.htmx and not request.htmx.boosted:
        return render_template("search/_results.html", access=access, query=query,
                               found=found, labels=labels)
    return render_template("search/results.html", access=access, query=query, found=found,
                           folders=folders, labels=labels, current=query.folder,
                           advanced=request.args.get("advanced") == "1")
