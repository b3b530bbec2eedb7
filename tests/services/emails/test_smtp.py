"""PLANGATE_SMTP_URL: its forms, a login, STARTTLS and implicit TLS against a real SMTP server."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from plangate.services.emails.smtp import Outgoing, SmtpConfig, send
from plangate.settings import ConfigError, load_settings
from tests.smtp_server import SmtpServer


def test_the_url_forms() -> None:
    starttls = SmtpConfig.from_url("smtp://me%40acme.test:p%3Ass@mail.acme.test:587?starttls=true")
    assert (starttls.host, starttls.port, starttls.starttls, starttls.tls) == (
        "mail.acme.test", 587, True, False)
    assert (starttls.user, starttls.password) == ("me@acme.test", "p:ss")
    tls = SmtpConfig.from_url("smtps://mail.acme.test")
    assert (tls.port, tls.tls, tls.starttls, tls.user) == (465, True, False, "")
    plain = SmtpConfig.from_url("smtp://localhost")
    assert (plain.port, plain.tls, plain.starttls) == (25, False, False)


def test_a_url_that_is_not_smtp_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(smtp_url="http://user:secret@mail.acme.test")
    assert "PLANGATE_SMTP_URL" in str(raised.value)
    assert "secret" not in str(raised.value)


@pytest.fixture
def guarded() -> Iterator[SmtpServer]:
    server = SmtpServer(login=("me@acme.test", "p:ss")).start()
    yield server
    server.stop()


def _outgoing() -> Outgoing:
    return Outgoing(email_id=1, sender="billing@acme.test", recipients=("ada@example.com",),
                    subject="hello", text="hi\n", html="<p>hi</p>", message_id="msg_1")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_login_in_the_url_is_used(guarded: SmtpServer) -> None:
    port = guarded.port
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"), _outgoing())
    assert refused.value.smtp_code == 530  # authentication required
    send(SmtpConfig.from_url(f"smtp://me%40acme.test:p%3Ass@127.0.0.1:{port}"), _outgoing())
    [caught] = guarded.caught
    assert caught.recipients == ["ada@example.com"] and caught.subject == "hello"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_tls_to_the_server_verifies_its_certificate(mode: str, tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = SmtpServer(tls=mode, tls_context=context).start()
    scheme, query = ("smtp", "?starttls=true") if mode == "starttls" else ("smtps", "")
    url = f"{scheme}://127.0.0.1:{server.port}{query}"
    try:
        # A certificate no trusted authority signed is refused...
        with pytest.raises(ssl.SSLCertVerificationError):
            send(SmtpConfig.from_url(url), _outgoing())
        assert server.caught == []
        # ...and accepted with the CA that signed it.
        sep = "&" if query else "?"
        send(SmtpConfig.from_url(f"{url}{sep}cafile={quote(str(cert))}"), _outgoing())
    finally:
        server.stop()
    [caught] = server.caught
    assert caught.subject == "hello"
