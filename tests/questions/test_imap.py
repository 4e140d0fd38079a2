"""Questions from an IMAP mailbox: Debian's Dovecot on a local port, over TLS, with real messages."""

from __future__ import annotations

import imaplib
import io
import logging
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command

from questions import imap
from questions.imap import poll_mailbox, poll_when_due
from questions.mail import receive_message
from questions.models import Question
from tests.processes import free_port, wait_for

pytestmark = pytest.mark.imap

MAIL = Path(__file__).parent / "mail"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
# Spaces, "@", "/" and "%" must survive the URL (a ":" cannot: passwd-file separates fields with it).
USER, PASSWORD = "library", "pass word@/100% the library's"
NOBODY = 65534  # the mail processes' user when the tests run as root: Dovecot never reads mail as root

DOVECOT_CONF = """
base_dir = {home}/run
state_dir = {home}/state
log_path = {home}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{certificates}/cert.pem
ssl_key = <{certificates}/key.pem
auth_mechanisms = plain
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {home}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={home}/home/%u
}}
mail_location = maildir:{home}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
{capabilities}
# Neither a delay nor a growing penalty after a failed login: a test fails logins on purpose.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
"""


@dataclass
class MailServer:
    """A running Dovecot, and the means to look into its mailbox as a mail client would."""

    port: int
    certificate: Path

    @property
    def url(self) -> str:
        return f"imaps://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}/INBOX"

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """A context that trusts this server's certificate, and verifies it as any other."""
        return ssl.create_default_context(cafile=self.certificate)

    def client(self) -> imaplib.IMAP4_SSL:
        client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=self.ssl_context, timeout=30)
        client.login(USER, PASSWORD)
        return client

    def append(self, raw: bytes) -> None:
        client = self.client()
        try:
            assert client.append("INBOX", None, None, raw)[0] == "OK"
        finally:
            client.logout()

    def messages(self, folder: str) -> list[tuple[bytes, bytes]]:
        """(flags, bytes) of each message in the folder, oldest first; [] for a folder that is not there."""
        client = self.client()
        try:
            if client.select(f'"{folder}"', readonly=True)[0] != "OK":
                return []
            found = []
            for uid in client.uid("SEARCH", "ALL")[1][0].split():
                data = client.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")[1]
                found.append((data[0][0], data[0][1]))
            return found
        finally:
            client.logout()

    def empty(self) -> None:
        """No message in the inbox, no Processed or Failed folder: as a test found it on a server of its own."""
        client = self.client()
        try:
            client.select('"INBOX"')
            client.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
            client.expunge()
            client.delete('"Processed"')  # NO when there is none
            client.delete('"Failed"')
        finally:
            client.logout()


@pytest.fixture(scope="module")
def dovecot_folder():
    """A folder for Dovecot's configuration, certificate and maildirs.

    Not under tmp_path: when the tests run as root the mail processes run as `nobody`, and pytest's
    temporary folders are closed to other users.
    """
    if not Path(DOVECOT).exists():
        pytest.skip(
            "Dovecot is not installed (Debian: apt-get install dovecot-imapd, or scripts/system-packages)"
        )
    folder = Path(tempfile.mkdtemp(prefix="storybank-dovecot-"))
    folder.chmod(0o755)
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            + ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"), "-days", "2"]
            + ["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True,
            capture_output=True,
        )
        (folder / "key.pem").chmod(0o600)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def running_dovecot(folder: Path, capabilities: str = ""):
    """Dovecot in the foreground (-F) with a configuration and a maildir of its own, stopped after."""
    home = Path(tempfile.mkdtemp(prefix="server-", dir=folder))
    home.chmod(0o755)
    port = free_port()
    as_root = os.getuid() == 0
    mail_uid, mail_gid = (NOBODY, NOBODY) if as_root else (os.getuid(), os.getgid())
    for name in ("mail", "home"):
        (home / name).mkdir()
        if as_root:
            os.chown(home / name, mail_uid, mail_gid)
    (home / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    user = subprocess.check_output(["id", "-un"], text=True).strip()
    (home / "dovecot.conf").write_text(
        DOVECOT_CONF.format(
            home=home,
            certificates=folder,
            port=port,
            user=user,
            group=subprocess.check_output(["id", "-gn"], text=True).strip(),
            # Login processes never run as root; without root they cannot chroot.
            login_user="dovenull" if as_root else user,
            chroot="" if as_root else "chroot =",
            mail_uid=mail_uid,
            mail_gid=mail_gid,
            capabilities=f"imap_capability = {capabilities}" if capabilities else "",
        )
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(home / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )

    def listening() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"dovecot exited: {process.stdout.read().decode()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                return True
        except OSError:
            return False

    try:
        wait_for(listening, 30, "dovecot never listened")
        yield MailServer(port=port, certificate=folder / "cert.pem")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def shared_mail_server(dovecot_folder):
    with running_dovecot(dovecot_folder) as server:
        yield server


@pytest.fixture
def mail_server(request, dovecot_folder, shared_mail_server) -> MailServer:
    """Dovecot on a local port over TLS, one user, an empty inbox.

    Tests share one server, emptied before each; a test parametrized with the capabilities a
    server announces gets a server of its own.
    """
    capabilities = getattr(request, "param", "")
    if not capabilities:
        shared_mail_server.empty()
        yield shared_mail_server
        return
    with running_dovecot(dovecot_folder, capabilities) as server:
        yield server


@pytest.fixture
def library(corrosion_library, asker, settings):
    settings.DEFAULT_FROM_EMAIL = "Storybank <storybank@stories.example.org>"
    settings.QUESTIONS_ALLOWED_DOMAINS = ""
    settings.QUESTIONS_IMAP_PROCESSED_FOLDER = "Processed"
    return corrosion_library


def eml(name: str) -> bytes:
    return (MAIL / name).read_bytes().replace(b"\n", b"\r\n")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mail_server",
    ["", "IMAP4rev1 LITERAL+ UIDPLUS", "IMAP4rev1 LITERAL+"],
    ids=["move", "copy-and-uid-expunge", "copy-and-expunge"],
    indirect=True,
)
def test_a_question_in_the_mailbox_is_stored_and_its_message_moved_to_processed(library, mail_server):
    mail_server.append(eml("plain.eml"))

    outcomes = poll_mailbox(mail_server.url, ssl_context=mail_server.ssl_context)

    question = Question.objects.get()
    assert [str(outcome) for outcome in outcomes] == [
        f"question stored #{question.pk} from lena@example.org; replied"
    ]
    assert (
        question.text
        == "Corrosion on the cooling pumps\n\nWho knows how to stop corrosion on the cooling pumps?"
    )
    assert question.asker.username == "lena"
    assert [message.to for message in mail.outbox if message.to == ["lena@example.org"]] == [
        ["lena@example.org"]
    ]
    assert mail_server.messages("INBOX") == []
    [(flags, raw)] = mail_server.messages("Processed")
    assert raw == eml("plain.eml")


@pytest.mark.django_db
def test_a_redelivered_message_is_stored_once_and_both_copies_are_moved(library, mail_server):
    mail_server.append(eml("plain.eml"))
    mail_server.append(eml("plain.eml"))

    outcomes = poll_mailbox(mail_server.url, ssl_context=mail_server.ssl_context)

    question = Question.objects.get()
    assert [str(outcome) for outcome in outcomes] == [
        f"question stored #{question.pk} from lena@example.org; replied",
        "already received: nothing stored twice from lena@example.org; no reply",
    ]
    assert mail_server.messages("INBOX") == []
    assert len(mail_server.messages("Processed")) == 2


@pytest.mark.django_db
def test_a_message_that_cannot_be_read_is_moved_aside_and_the_rest_still_come_in(
    library, mail_server, monkeypatch
):
    unreadable = eml("plain.eml").replace(b"<plain-1@mail.example.org>", b"<unreadable@mail.example.org>")
    mail_server.append(unreadable)
    mail_server.append(eml("plain.eml"))

    def fails_on_the_first(raw):  # a fault in reading one message, as a parser bug would be
        if b"<unreadable@" in raw:
            raise ValueError("cannot read this one")
        return receive_message(raw)

    monkeypatch.setattr("questions.imap.receive_message", fails_on_the_first)
    outcomes = poll_mailbox(mail_server.url, ssl_context=mail_server.ssl_context)

    question = Question.objects.get()
    assert [str(outcome) for outcome in outcomes] == [
        "failed: could not be read, kept aside for a person to look at; no reply",
        f"question stored #{question.pk} from lena@example.org; replied",
    ]
    assert mail_server.messages("INBOX") == []
    [(_flags, kept)] = mail_server.messages("Failed")
    assert kept == unreadable
    assert len(mail_server.messages("Processed")) == 1


def test_an_empty_mailbox_is_a_round_with_nothing_received(mail_server):
    assert poll_mailbox(mail_server.url, ssl_context=mail_server.ssl_context) == []
    assert mail_server.messages("Processed") == []  # nothing to move: no folder made


def test_a_message_whose_storing_fails_stays_in_the_inbox_unread(mail_server, tmp_path):
    """`manage.py poll_email` with a database server that is not there: a temporary failure."""
    mail_server.append(eml("plain.eml"))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=f"postgres://storybank@127.0.0.1:{free_port()}/storybank",
        STORYBANK_VAR_DIR=str(tmp_path / "var"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        QUESTIONS_IMAP_URL=mail_server.url,
        SSL_CERT_FILE=str(mail_server.certificate),  # the system's trust, plus nothing but this server
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "poll_email"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        timeout=120,
    )

    assert result.returncode == 75, result.stderr.decode()[-2000:]
    [(flags, raw)] = mail_server.messages("INBOX")
    assert raw == eml("plain.eml")
    assert b"\\Seen" not in flags
    assert mail_server.messages("Processed") == []


@pytest.mark.django_db
def test_poll_email_prints_what_became_of_each_message(library, mail_server, settings, monkeypatch):
    settings.QUESTIONS_IMAP_URL = mail_server.url
    monkeypatch.setenv("SSL_CERT_FILE", str(mail_server.certificate))
    mail_server.append(eml("plain.eml"))
    mail_server.append(eml("outside_domain.eml"))
    out = io.StringIO()

    call_command("poll_email", stdout=out)

    question = Question.objects.get()
    assert out.getvalue() == (
        f"question stored #{question.pk} from lena@example.org; replied\n"
        "refused: the sender's domain is not allowed from deals@elsewhere.example; no reply\n"
    )
    assert len(mail_server.messages("Processed")) == 2


def test_a_server_whose_certificate_is_not_trusted_is_never_sent_the_password(mail_server):
    mail_server.append(eml("plain.eml"))

    with pytest.raises(ssl.SSLCertVerificationError):
        poll_mailbox(mail_server.url)  # the system's trust: a self-signed certificate is not in it

    assert len(mail_server.messages("INBOX")) == 1


@pytest.fixture
def due(monkeypatch):
    """This process has not polled yet."""
    monkeypatch.setattr(imap, "_last_poll_at", None)


@pytest.mark.django_db
def test_without_a_mailbox_the_housekeeping_job_does_nothing(settings, due, django_assert_num_queries):
    settings.QUESTIONS_IMAP_URL = None

    with django_assert_num_queries(0):
        poll_when_due()

    assert imap._last_poll_at is None


def test_a_refused_login_is_logged_with_the_password_masked_and_not_tried_again_before_due(
    mail_server, settings, due, caplog, monkeypatch
):
    settings.QUESTIONS_IMAP_URL = mail_server.url.replace("pass%20word", "wrong%20word")
    settings.QUESTIONS_IMAP_POLL_SECONDS = 3600
    monkeypatch.setenv("SSL_CERT_FILE", str(mail_server.certificate))
    mail_server.append(eml("plain.eml"))

    with caplog.at_level(logging.WARNING, logger="questions.imap"):
        poll_when_due()
        poll_when_due()  # not due again for an hour: no second attempt

    [record] = caplog.records
    assert record.getMessage() == (
        f"Could not poll imaps://***@127.0.0.1:{mail_server.port}/INBOX for questions: "
        "[AUTHENTICATIONFAILED] Authentication failed."
    )
    assert "wrong" not in caplog.text
    assert len(mail_server.messages("INBOX")) == 1


@pytest.mark.django_db
def test_the_housekeeping_job_receives_the_mailbox_when_due(library, mail_server, settings, due, monkeypatch):
    settings.QUESTIONS_IMAP_URL = mail_server.url
    monkeypatch.setenv("SSL_CERT_FILE", str(mail_server.certificate))
    mail_server.append(eml("plain.eml"))

    poll_when_due()

    assert Question.objects.count() == 1
    assert mail_server.messages("INBOX") == []
