"""Mail from system-looking addresses for tests/data/classify: people and robots alike.

A person writes from root@ of an internal host before their own mailbox is set up, from
the only address a bakery has (postmaster@), from a no-reply address in Outlook, from an
admin@ mailbox; each with a person's mail program and first-person text, as in the real
mail the classifier once called automated (Outlook, root@ on an internal host). Beside them,
the robots of the same addresses: a monitoring script from root@ and a bounce from
postmaster@ that carries an Apple Mail X-Mailer (as some bounce generators do). The
classifier must tell them apart by more than the address.
"""

from __future__ import annotations

from classify_set_auto import Ctx, Made
from classify_set_mime import addr, assemble, text_part

_PEOPLE = {
    "en": (
        "Invoice address",
        "Hi,\n\nsorry, I'm writing from the server's mailbox as mine isn't set up yet. Could "
        "you change the invoice address on our account to Unit 4, Riverside Park?\n\nThanks,\n{n}",
    ),
    "de": (
        "Lieferung verschieben",
        "Guten Tag,\n\nich schreibe von unserer einzigen Adresse. Können Sie die Lieferung "
        "von Dienstag auf Mittwoch verschieben?\n\nViele Grüße\n{n}",
    ),
    "fr": (
        "Changement d'adresse",
        "Bonjour,\n\nj'écris depuis la boîte du serveur, la mienne n'est pas encore prête. "
        "Pouvez-vous changer l'adresse de facturation ?\n\nMerci,\n{n}",
    ),
}
_CLIENTS = (
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.9.0"),
    ("X-Mailer", "Microsoft Outlook 16.0"),
    ("X-Mailer", "Apple Mail (2.3774.400.31)"),
    ("X-Mailer", "Microsoft Outlook 16.0"),
)


def person_at_system_address(c: Ctx, variant: int) -> Made:
    """A person's mail from root@, no-reply@, postmaster@ or admin@ (``variant`` 0..3)."""
    local = ("root", "noreply", "postmaster", "admin")[variant]
    host = f"srv{variant + 1}.{c.domain}" if local == "root" else c.domain
    subject, text = _PEOPLE.get(c.lang, _PEOPLE["en"])
    headers = c.base(addr(c.name, f"{local}@{host}"), subject)
    headers.append(_CLIENTS[variant])
    if local == "noreply":
        # Outlook on Exchange adds this to ordinary mail; the envelope sender is the address.
        headers.append(("X-Auto-Response-Suppress", "All"))
    body = text_part(text.format(n=c.name))
    system = f"{local}_{_CLIENTS[variant][1].split()[0].split('/')[0].lower()}"
    return assemble(headers, body), system, f"person writing from {local}@"


def monitoring_report(c: Ctx) -> Made:
    """A disk check mailed by a script from root@: a robot at the same kind of address."""
    host = f"mon.{c.domain}"
    headers = c.base(f"root@{host}", f"[{host}] disk usage warning")
    headers.append(("X-Mailer", "PHPMailer 6.9.1 (https://github.com/PHPMailer/PHPMailer)"))
    text = "/dev/sda1 is 91% full (threshold 90%).\nThis message was sent automatically."
    return assemble(headers, text_part(text, "7bit")), "monitoring", "script from root@"
