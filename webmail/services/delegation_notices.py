"""The information messages filed when a delegation is added, changed, removed or expires.

They are written in French on purpose: they are the practice's own record in the mailbox
(MSSanté is French), not interface text that follows a browser's language.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import date
from email.headerregistry import Address

from imapclient.exceptions import IMAPClientError

from imap_bridge.errors import MailError
from imap_bridge.notice import build_notice, file_notice
from webmail.models import DelegationRight
from webmail.models.base import utcnow

log = logging.getLogger(__name__)

RIGHTS_FR = {
    DelegationRight.READ: "lecture seule",
    DelegationRight.ORGANISE: "lecture et classement",
    DelegationRight.SEND_ON_BEHALF: "lecture, classement et envoi de la part du titulaire",
}


class Change(enum.StrEnum):
    GRANTED = "granted"
    CHANGED = "changed"
    REMOVED = "removed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Facts:
    """What the notice tells, copied before a removal deletes the row."""

    owner: str
    delegate: str
    right: DelegationRight
    end_date: date | None


_OWNER_LEAD = {
    Change.GRANTED: "Une délégation sur votre boîte aux lettres {owner} vient d'être ajoutée.",
    Change.CHANGED: "Une délégation sur votre boîte aux lettres {owner} vient d'être modifiée.",
    Change.REMOVED: ("La délégation de {delegate} sur votre boîte aux lettres {owner} a été "
                     "retirée. Son accès a pris fin immédiatement."),
    Change.EXPIRED: ("La délégation de {delegate} sur votre boîte aux lettres {owner} est "
                     "arrivée à son terme. Son accès a pris fin."),
}
_DELEGATE_LEAD = {
    Change.GRANTED: "{owner} vous a donné un accès délégué à sa boîte aux lettres.",
    Change.CHANGED: "{owner} a modifié votre accès délégué à sa boîte aux lettres.",
    Change.REMOVED: "{owner} a retiré votre accès délégué à sa boîte aux lettres.",
    Change.EXPIRED: "Votre accès délégué à la boîte aux lettres de {owner} est arrivé à son terme.",
}
_SUBJECT = {Change.GRANTED: "ajoutée", Change.CHANGED: "modifiée", Change.REMOVED: "retirée",
            Change.EXPIRED: "arrivée à échéance"}


def owner_notice(change: Change, facts: Facts) -> tuple[str, str]:
    """Subject and body of the message filed in the owner's INBOX."""
    lines = ["Bonjour,", "", _OWNER_LEAD[change].format(owner=facts.owner,
                                                        delegate=facts.delegate), ""]
    lines += [f"Délégué(e) : {facts.delegate}"]
    if change in (Change.GRANTED, Change.CHANGED):
        lines += [f"Droits : {RIGHTS_FR[facts.right]}", f"Fin de l'accès : {_end(facts)}", "",
                  f"{facts.delegate} travaille dans votre boîte avec ses propres "
                  "identifiants ; chacune de ses actions est tracée à son nom."]
    lines += ["", "Vous pouvez ajouter, modifier ou retirer une délégation à tout moment dans "
              "Pli, rubrique « Délégations ».", "", "-- ", "Message automatique de Pli"]
    return f"Délégation {_SUBJECT[change]} : {facts.delegate}", "\n".join(lines) + "\n"


def delegate_notice(change: Change, facts: Facts) -> tuple[str, str]:
    """Subject and body of the message filed in the delegate's INBOX."""
    lines = ["Bonjour,", "", _DELEGATE_LEAD[change].format(owner=facts.owner), ""]
    if change in (Change.GRANTED, Change.CHANGED):
        lines += [f"Boîte aux lettres : {facts.owner}", f"Droits : {RIGHTS_FR[facts.right]}",
                  f"Fin de l'accès : {_end(facts)}", "",
                  "Dans Pli, choisissez cette boîte dans le sélecteur en haut de page. "
                  "Vos actions y sont tracées à votre nom."]
    lines += ["", "-- ", "Message automatique de Pli"]
    return f"Accès délégué à la boîte {facts.owner} : {_SUBJECT[change]}", "\n".join(lines) + "\n"


def file_into_inbox(run_in_mailbox, address: str, subject: str, body: str) -> bool:
    """Append the notice to `address`'s INBOX through `run_in_mailbox(operation)`; a
    notice that cannot be filed is logged, never a reason to undo the change itself."""
    now = utcnow()
    domain = address.rpartition("@")[2] or "localhost"
    raw = build_notice(Address("Pli", "ne-pas-repondre", domain), address, subject, body, now)
    try:
        run_in_mailbox(lambda client: file_notice(client, "INBOX", raw, now))
    except (MailError, IMAPClientError, OSError) as error:
        log.warning("delegation notice for %s not filed: %s", address, error)
        return False
    return True


def _end(facts: Facts) -> str:
    if facts.end_date is None:
        return "aucune date de fin (jusqu'au retrait)"
    return f"à la fin de la journée du {facts.end_date:%d/%m/%Y}"
