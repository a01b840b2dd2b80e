"""The network's test CA (C17, C29): every peer and every client of the simulated 住基ネット holds a
certificate of this CA, and every connection is mutual TLS.

`juki network ca --dir DIR` writes, once:

- `ca.pem` / `ca.key`: the network's CA (the real network's is J-LIS's; this one is for the demo
  and the tests only, and says so in its name);
- `<peer>.pem` / `<peer>.key` for each server (prefecture, national, jlis, cards, koseki, moj, and each
  city's CS), valid for 127.0.0.1 and localhost;
- `<client>.pem` / `<client>.key` for each client: a city's CS towards the peers (`cs-401005`), a
  city's 住基ネット連携 (S2) towards its CS (`s2-401005`), the prefecture towards the national
  server, the 法務省's system towards the exchange (`moj`), and the simulation's `operator`;
- for the refusal tests: `expired.pem` (a client of this CA whose validity ended yesterday) and
  `forged.pem` (a client with a CS's very name, signed by another CA, `rogue-ca.pem`).

Keys are EC P-256 and written owner-only (0600). A peer knows who called it from the client
certificate's common name, never from the request.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import ssl
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "juki 住基ネット 試験用認証局 (demo and tests only)"
SERVERS = ("prefecture", "national", "jlis", "cards", "koseki", "moj", "infonet", "intermediary")
# The 情報提供ネットワークシステム's simulated 情報照会者 (issue 17): certificate name → (name, kind of body as
# 別表第二 names it). `infonet` vouches for them towards the 中間サーバー.
REQUESTERS = {
    "req-mhlw": ("厚生労働大臣（日本年金機構）", "厚生労働大臣"),
    "req-jasso": ("独立行政法人日本学生支援機構", "独立行政法人日本学生支援機構"),
    "req-kkr": ("国家公務員共済組合", "国家公務員共済組合"),
    "req-401307": ("福岡市長", "市町村長"),
}
DAYS = 825
_SET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_RESERVED = frozenset({"ca", "expired", "forged", "rogue-ca"})


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "juki test network"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _ca(common_name: str, now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(common_name: str, *, ca_key, ca_cert: x509.Certificate, server: bool, not_before: dt.datetime,
          not_after: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(
                   [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def cs_name(municipality: str) -> str:
    return f"cs-{municipality}"


def s2_name(municipality: str) -> str:
    return f"s2-{municipality}"


def _create_leaves(directory: Path, ca_name: str, servers: Sequence[str], clients: Sequence[str],
                   now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, list[str]]:
    """The CA (kept if there) and each missing server (`<name>`) and client (`<name>-client`) certificate
    in `directory` (created owner-only); returns the CA and the stems written."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[str] = []
    if (directory / "ca.pem").exists():
        ca_cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
        ca_key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    else:
        ca_key, ca_cert = _ca(ca_name, now)
        _write_key(directory / "ca.key", ca_key)
        _write_cert(directory / "ca.pem", ca_cert)
        written.append("ca")
    valid = dict(not_before=now - dt.timedelta(minutes=5), not_after=now + dt.timedelta(days=DAYS))
    for name, server in [*((s, True) for s in servers), *((c, False) for c in clients)]:
        stem = name if server else f"{name}-client"
        if (directory / f"{stem}.pem").exists():
            continue
        key, cert = _leaf(name, ca_key=ca_key, ca_cert=ca_cert, server=server, **valid)
        _write_key(directory / f"{stem}.key", key)
        _write_cert(directory / f"{stem}.pem", cert)
        written.append(stem)
    return ca_key, ca_cert, written


def create_set(directory: Path, *, ca_name: str, servers: Sequence[str], clients: Sequence[str]) -> list[str]:
    """A separate CA and its certificates in `directory`, for a network other than 住基ネット (e.g. the
    庁内連携 towards the business systems): the same layout as `create`, so `server_context` and
    `client_files` read it as they are. An existing CA and certificates are kept. Returns the stems written."""
    for name in [*servers, *clients]:
        # A name is a file stem: no path, and none that would overwrite the CA or that `client_files` reads
        # as another file (`expired`, `forged`), nor a server that would shadow a client's certificate.
        if (not _SET_NAME.fullmatch(name) or name in _RESERVED
                or (name in servers and name.endswith("-client"))):
            raise ValueError(f"unusable certificate name: {name!r}")
    return _create_leaves(directory, ca_name, servers, clients, dt.datetime.now(dt.timezone.utc))[2]


def create(directory: Path, *, municipalities: tuple[str, ...] = ("401005",)) -> list[str]:
    """Write the CA and every certificate into `directory` (created owner-only). An existing CA is
    kept: running it again only adds what is missing. Returns the names written."""
    now = dt.datetime.now(dt.timezone.utc)
    servers = [*SERVERS, *(cs_name(m) for m in municipalities)]
    # `moj`: the 法務省's system at the exchange; `operator`: whoever plays the outside world in the demo and
    # the tests (a 法務省通知 to send), never a city.
    # The 中間サーバー (issue 17): each city's 既存システム連携 (`im-<code>`), the platform's operator, the
    # 情報提供ネットワークシステム towards J-LIS and the platform, and its 情報照会者.
    clients = [*(cs_name(m) for m in municipalities), *(s2_name(m) for m in municipalities), "prefecture", "moj",
               "operator", *(f"im-{m}" for m in municipalities), "im-operator", "infonet", *REQUESTERS]
    ca_key, ca_cert, written = _create_leaves(directory, CA_NAME, servers, clients, now)
    valid = dict(not_before=now - dt.timedelta(minutes=5), not_after=now + dt.timedelta(days=DAYS))
    if not (directory / "expired.pem").exists():
        key, cert = _leaf(cs_name(municipalities[0]), ca_key=ca_key, ca_cert=ca_cert, server=False,
                          not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1))
        _write_key(directory / "expired.key", key)
        _write_cert(directory / "expired.pem", cert)
        written.append("expired")
    if not (directory / "forged.pem").exists():
        rogue_key, rogue_cert = _ca(CA_NAME, now)  # the same name as the real CA: only the key tells them apart
        _write_cert(directory / "rogue-ca.pem", rogue_cert)
        key, cert = _leaf(cs_name(municipalities[0]), ca_key=rogue_key, ca_cert=rogue_cert, server=False, **valid)
        _write_key(directory / "forged.key", key)
        _write_cert(directory / "forged.pem", cert)
        written.append("forged")
    return written


def server_context(directory: Path, name: str) -> ssl.SSLContext:
    """A server's TLS: its own certificate, and a client certificate of the network's CA required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(directory / f"{name}.pem", directory / f"{name}.key")
    context.load_verify_locations(directory / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED  # no certificate, an unknown CA or an expired one: no handshake
    return context


def client_files(directory: Path, name: str) -> tuple[str, str]:
    """The (certificate, key) a client presents; `name` is e.g. `cs-401005`, or `expired` / `forged`."""
    stem = name if name in ("expired", "forged") else f"{name}-client"
    return str(directory / f"{stem}.pem"), str(directory / f"{stem}.key")


def peer_name(cert: dict | None) -> str | None:
    """The common name of a verified peer certificate (`ssl.SSLSocket.getpeercert()`)."""
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None
