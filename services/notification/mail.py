"""An email's text as it goes on the wire (``Composer.rendered``), and as the standard library's object
(``Composer.message``) where the bytes cannot be written straight.

The bytes are written here, not by ``email.generator``: its flattening was half of what a straight aiosmtplib
send costs, and building the message as objects a third of the sender's CPU an email
(bench/profiles/2026-12-07-email.md). ``From`` is folded once; ``To`` and ``Subject`` are folded at spaces
(RFC 5322 §3.2.2); a subject that is not ASCII (or reads like an encoded word) becomes RFC 2047 B encoded-words
of whole characters; the body is base64 UTF-8 in lines of 76, as compat32 writes it. tests/notify/test_sender.py
reads every header and the body back against ``message()``'s. Split from services/notification/smtp.py (the
SMTP exchange), which sends what this writes.
"""

from __future__ import annotations

import base64
import email.utils
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.text import MIMEText

from services.core.config import Settings
from services.notification.channels import Outgoing

# RFC 2047: an encoded-word carries whole characters, at most 42 bytes of UTF-8 here ("=?utf-8?b?", 56 base64
# characters, "?=": 68 characters), so that "Subject: " and one of them fit in a line of 78
_WORD_BYTES = 42
_LINE = 78  # RFC 5322 §2.1.1: a line SHOULD be at most 78 characters (998 MUST)
_LONGEST_HEADER = 900  # beyond this (no template is so long) the general path folds the header
_MIME = b'Content-Type: text/plain; charset="utf-8"\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n'


def _encoded_words(value: str) -> str:
    """``value`` as RFC 2047 B encoded-words of UTF-8, one a line (folded: a reader joins them unspaced)."""
    words: list[bytes] = []
    word = b""
    for character in value:
        encoded = character.encode("utf-8")
        if len(word) + len(encoded) > _WORD_BYTES:
            words.append(word)
            word = b""
        word += encoded
    words.append(word)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def _header(name: str, value: str) -> str:
    """One header line, folded at spaces where it is longer than 78 characters (RFC 5322 §3.2.2)."""
    line = f"{name}: {value}"
    if len(line) <= _LINE:
        return line + "\r\n"
    lines, current = [], f"{name}:"
    for part in value.split(" "):
        if len(current) + 1 + len(part) > _LINE and current.strip() != f"{name}:":
            lines.append(current)
            current = ""
        current += " " + part
    lines.append(current)
    return "\r\n".join(lines) + "\r\n"


def _checked(notification: Outgoing) -> str:
    """The subject ("" for none), once neither it nor the recipient holds a line break (ValueError: a header
    injected, a permanent failure)."""
    subject = notification.subject or ""
    for value in (notification.recipient, subject):
        if "\r" in value or "\n" in value:
            raise ValueError("a header value may not contain a line break")
    return subject


class Composer:
    """The sender's address and domain (from ``MOTCUA_SMTP_SENDER``), and every message written from them."""

    def __init__(self, settings: Settings) -> None:
        self.sender = settings.smtp.sender
        name, address = email.utils.parseaddr(settings.smtp.sender)
        self.envelope_from = address or "no-reply@motcua.local"
        self.domain = self.envelope_from.rpartition("@")[2] or "motcua.local"
        self._from = email.utils.formataddr((name, self.envelope_from), charset="utf-8")
        self._from_line = _header("From", self._from)

    def message_id(self, notification: Outgoing) -> str:
        """``<notification id@domain>``: the same on every attempt, so a repeat is known as one."""
        return f"<{notification.id}@{self.domain}>"

    def message(self, notification: Outgoing) -> Message:
        """The message as an object of the standard library: what ``rendered`` writes as bytes, and what is
        sent where it returns None. A header value with a line break raises ValueError (a permanent failure).

        Built with the compat32 classes (``MIMEText``, ``Header``): the same headers and the same
        base64 UTF-8 body as ``EmailMessage`` writes, in 0.07 ms instead of 2.9 ms (its default policy
        parses every header it is given back into tokens) — that parse was 45 % of the sender's CPU
        at 200 emails/s (bench/profiles/2026-12-05-notify.md). An address that is not ASCII (SMTPUTF8)
        takes the slow, general path."""
        if not notification.recipient.isascii():
            return self._general_message(notification)
        subject = _checked(notification)
        message = MIMEText(notification.body, "plain", "utf-8")
        message["From"] = self._from
        message["To"] = notification.recipient
        # typeshed types a compat32 header as str; a Header is what compat32 writes RFC 2047 words from
        message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
        self._stamp(message, notification)
        return message

    def rendered(self, notification: Outgoing) -> bytes | None:
        """The message as it goes on the wire, written straight as bytes: ``message()``'s headers and body
        (compat32 writes the same; tests/notify/test_sender.py reads both back and compares) without the
        message object and ``email.generator``'s flattening — half of what a straight aiosmtplib send
        costs and a third of the sender's CPU an email (bench/profiles/2026-12-07-email.md). None where the
        general path writes it: an address that is not ASCII, a header too long to fold at spaces.
        A header value with a line break raises ValueError (a permanent failure)."""
        subject, recipient = _checked(notification), notification.recipient
        if not recipient.isascii() or max(len(recipient), len(subject)) > _LONGEST_HEADER:
            return None
        if subject.isascii() and "=?" not in subject:
            subject_line = _header("Subject", subject)
        else:
            subject_line = f"Subject: {_encoded_words(subject)}\r\n"
        head = "".join(
            (
                self._from_line,
                _header("To", recipient),
                subject_line,
                f"Message-ID: {self.message_id(notification)}\r\n",
                f"Date: {email.utils.format_datetime(datetime.now(UTC))}\r\n",
                f"X-Motcua-Notification: {notification.id}\r\n",
                "Auto-Submitted: auto-generated\r\n\r\n",
            )
        )
        body = base64.encodebytes(notification.body.encode("utf-8")).replace(b"\n", b"\r\n")
        return _MIME + head.encode("ascii") + body

    def _general_message(self, notification: Outgoing) -> Message:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = notification.recipient
        message["Subject"] = notification.subject or ""
        self._stamp(message, notification)
        message.set_content(notification.body)
        return message

    def _stamp(self, message: Message, notification: Outgoing) -> None:
        message["Message-ID"] = self.message_id(notification)
        message["Date"] = email.utils.format_datetime(datetime.now(UTC))
        message["X-Motcua-Notification"] = str(notification.id)
        message["Auto-Submitted"] = "auto-generated"
