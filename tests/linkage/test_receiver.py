"""The business systems' receiving service (juki.linkage.receiver) and the deliveries' signatures
(juki.linkage.signing): in this process on loopback with mutual TLS, and once as a real process killed
with SIGKILL. No database."""
from __future__ import annotations

import signal
import ssl
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from juki.linkage import receiver, signing
from juki.network import pki, wire

SENDER = "juki-linkage"
SERVERS = ("tax", "national-health-insurance")


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("linkage-pki")
    pki.create_set(directory, ca_name="juki 庁内連携 試験用認証局 (demo and tests only)", servers=SERVERS,
                   clients=(SENDER, "other-system"))
    return directory


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> signing.Ed25519PrivateKey:
    return signing.load_or_create(tmp_path_factory.mktemp("keys") / "linkage.pem")


@pytest.fixture(scope="module")
def public_keys(key) -> dict[str, str]:
    pem = signing.public_pem(key)
    return {signing.key_id(pem): pem}


@contextmanager
def serving(app: wire.App, directory: Path, name: str) -> Iterator[str]:
    """Like tests/network/inthread.py, but on the linkage's own CA (that helper writes 住基ネット's)."""
    httpd = wire.Server(app, ("127.0.0.1", 0), pki.server_context(directory, name))
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def down_file(tmp_path) -> Path:
    return tmp_path / "down"


@pytest.fixture
def url(tmp_path, pki_dir, public_keys, down_file) -> Iterator[str]:
    app = receiver.make_app("tax", tmp_path / "tax.sqlite3", public_keys, SENDER, down_file=down_file)
    with serving(app, pki_dir, "tax") as base:
        yield base


@pytest.fixture
def client(url, pki_dir) -> wire.Client:
    return wire.Client(url, directory=pki_dir, name=SENDER, timeout=30)


def payload(sequence: int, delivery_id: str | None = None, destination: str = "tax", **extra) -> dict:
    return {"delivery_id": delivery_id or f"d-{sequence:04d}", "destination": destination, "sequence": sequence,
            "kind": "change", "records": [{"resident_code": "12345678901", "name": "青木　太郎"}], **extra}


def deliver(client: wire.Client, key, body: dict) -> tuple[int, dict]:
    return client.call("POST", "/deliveries", signing.sign(key, body))


# -- signing ----------------------------------------------------------------------------------------------

def test_sign_and_verify_round_trip(key, public_keys):
    body = payload(1, note="住所の変更")
    envelope = signing.sign(key, body)
    assert set(envelope) == {"payload", "key_id", "signature"}
    assert envelope["key_id"] == signing.key_id(signing.public_pem(key)) and len(envelope["key_id"]) == 16
    assert signing.verify(envelope, public_keys) == body


def test_verify_refuses_a_tampered_payload(key, public_keys):
    envelope = signing.sign(key, payload(1))
    envelope["payload"]["records"][0]["name"] = "別人　花子"
    with pytest.raises(signing.BadSignature) as err:
        signing.verify(envelope, public_keys)
    assert err.value.code == "bad_signature"


def test_verify_refuses_an_unknown_key(public_keys):
    stranger = signing.Ed25519PrivateKey.generate()
    with pytest.raises(signing.BadSignature) as err:
        signing.verify(signing.sign(stranger, payload(1)), public_keys)
    assert err.value.code == "unknown_key"


@pytest.mark.parametrize("envelope", [
    [], {}, {"payload": {}, "key_id": "x"}, {"payload": "text", "key_id": "x", "signature": "AA=="}])
def test_verify_refuses_a_malformed_envelope(envelope, public_keys):
    with pytest.raises(signing.BadSignature) as err:
        signing.verify(envelope, public_keys)
    assert err.value.code == "malformed"


def test_verify_refuses_a_signature_that_is_not_base64(key, public_keys):
    envelope = {**signing.sign(key, payload(1)), "signature": "not base64!"}
    with pytest.raises(signing.BadSignature) as err:
        signing.verify(envelope, public_keys)
    assert err.value.code == "malformed"


def test_canonical_form_does_not_depend_on_key_order(key, public_keys):
    forward = {"a": 1, "b": {"x": "住", "y": [1, 2]}, "c": None}
    backward = {"c": None, "b": {"y": [1, 2], "x": "住"}, "a": 1}
    assert signing.canonical(forward) == signing.canonical(backward) == \
        '{"a":1,"b":{"x":"住","y":[1,2]},"c":null}'.encode()
    envelope = signing.sign(key, forward)
    assert signing.verify({**envelope, "payload": backward}, public_keys) == backward


def test_load_or_create_writes_an_owner_only_key_once(tmp_path):
    path = tmp_path / "keys" / "signing.pem"
    first = signing.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert signing.public_pem(signing.load_or_create(path)) == signing.public_pem(first)
    assert [p.name for p in path.parent.iterdir()] == ["signing.pem"]  # no temporary file left


# -- the certificate set ----------------------------------------------------------------------------------

def test_create_set_writes_its_own_ca_and_keeps_what_exists(tmp_path, pki_dir):
    directory = tmp_path / "set"
    written = pki.create_set(directory, ca_name="another CA", servers=["tax"], clients=[SENDER])
    assert written == ["ca", "tax", f"{SENDER}-client"]
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "tax.key").stat().st_mode) == 0o600
    ca = (directory / "ca.pem").read_bytes()
    assert pki.create_set(directory, ca_name="another CA", servers=["tax", "school-affairs"],
                          clients=[SENDER]) == ["school-affairs"]
    assert (directory / "ca.pem").read_bytes() == ca
    assert pki.client_files(directory, SENDER) == (str(directory / f"{SENDER}-client.pem"),
                                                   str(directory / f"{SENDER}-client.key"))


@pytest.mark.parametrize("servers,clients", [(["ca"], []), ([], ["expired"]), (["../tax"], []),
                                             (["tax-client"], [])])
def test_create_set_refuses_a_name_that_would_clobber_a_file(tmp_path, servers, clients):
    with pytest.raises(ValueError):
        pki.create_set(tmp_path / "set", ca_name="x", servers=servers, clients=clients)
    assert not (tmp_path / "set").exists()


def test_a_client_certificate_of_another_ca_gets_no_handshake(tmp_path, url, pki_dir):
    other = tmp_path / "other"
    pki.create_set(other, ca_name="another CA", servers=["tax"], clients=[SENDER])  # the very same names
    stranger = wire.Client(url, directory=pki_dir, name=SENDER, timeout=10)
    # it trusts the receiver's CA but presents a certificate of the other one
    stranger.context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pki_dir / "ca.pem"))
    stranger.context.load_cert_chain(*pki.client_files(other, SENDER))
    with pytest.raises(wire.Unreachable):
        stranger.call("GET", "/health")


# -- the receiving service --------------------------------------------------------------------------------

def test_a_delivery_is_accepted_and_kept(client, key):
    assert deliver(client, key, payload(1)) == (200, {"accepted": True, "duplicate": False, "sequence": 1})
    status, listing = client.call("GET", "/deliveries?after=0")
    assert status == 200 and listing["destination"] == "tax"
    [kept] = listing["deliveries"]
    assert (kept["delivery_id"], kept["sequence"], kept["kind"], kept["payload"]) == (
        "d-0001", 1, "change", payload(1))
    assert kept["received_at"].endswith("+00:00")


def test_a_resend_is_a_duplicate_and_kept_once(client, key):
    envelope = signing.sign(key, payload(1))
    assert client.call("POST", "/deliveries", envelope)[0] == 200
    assert client.call("POST", "/deliveries", envelope) == (200, {"accepted": False, "duplicate": True})
    # re-signed, with a field the sender adds at each attempt: still the same delivery
    assert deliver(client, key, payload(1, attempt=2)) == (200, {"accepted": False, "duplicate": True})
    assert [d["delivery_id"] for d in client.call("GET", "/deliveries")[1]["deliveries"]] == ["d-0001"]


def test_a_gap_is_refused_with_the_sequence_expected(client, key):
    status, reply = deliver(client, key, payload(2))
    assert (status, reply["code"], reply["expected"]) == (409, "out_of_order", 1)
    assert deliver(client, key, payload(1))[0] == 200
    status, reply = deliver(client, key, payload(3))
    assert (status, reply["code"], reply["expected"]) == (409, "out_of_order", 2)
    # a sequence already taken by another delivery: not a duplicate, out of order
    status, reply = deliver(client, key, payload(1, delivery_id="d-other"))
    assert (status, reply["code"], reply["expected"]) == (409, "out_of_order", 2)
    assert client.call("GET", "/health")[1]["last_sequence"] == 1


def test_a_stored_delivery_id_with_another_sequence_is_refused(client, key):
    assert deliver(client, key, payload(1))[0] == 200
    status, reply = deliver(client, key, payload(2, delivery_id="d-0001"))
    assert (status, reply["code"], reply["stored_sequence"]) == (409, "delivery_id_conflict", 1)


def test_a_delivery_for_another_destination_is_refused(client, key):
    status, reply = deliver(client, key, payload(1, destination="national-health-insurance"))
    assert (status, reply["code"], reply["destination"]) == (409, "wrong_destination", "tax")
    assert client.call("GET", "/health")[1]["count"] == 0


def test_a_payload_changed_after_signing_is_refused(client, key):
    envelope = signing.sign(key, payload(1))
    envelope["payload"]["records"].append({"resident_code": "99999999999"})
    status, reply = client.call("POST", "/deliveries", envelope)
    assert (status, reply["code"]) == (401, "bad_signature")
    assert client.call("GET", "/health")[1]["count"] == 0


def test_a_key_the_receiver_does_not_hold_is_refused(client):
    status, reply = deliver(client, signing.Ed25519PrivateKey.generate(), payload(1))
    assert (status, reply["code"]) == (401, "unknown_key")


def test_a_body_that_is_no_envelope_is_refused(client):
    status, reply = client.call("POST", "/deliveries", payload(1))
    assert (status, reply["code"]) == (401, "malformed")


@pytest.mark.parametrize("change,field", [({"sequence": True}, "sequence"), ({"sequence": 0}, "sequence"),
                                          ({"sequence": "1"}, "sequence"), ({"records": None}, "records"),
                                          ({"delivery_id": ""}, "delivery_id"), ({"kind": 3}, "kind")])
def test_a_signed_payload_without_its_fields_is_refused(client, key, change, field):
    status, reply = deliver(client, key, {**payload(1), **change})
    assert (status, reply["code"], reply["field"]) == (400, "invalid_payload", field)


def test_another_client_of_the_same_ca_is_refused(url, pki_dir, key):
    other = wire.Client(url, directory=pki_dir, name="other-system", timeout=30)
    status, reply = deliver(other, key, payload(1))
    assert (status, reply["code"]) == (403, "unknown_sender")
    assert other.call("GET", "/health")[1]["count"] == 0


def test_while_down_every_delivery_is_refused_then_taken(client, key, down_file):
    down_file.touch()
    status, reply = deliver(client, key, payload(1))
    assert (status, reply["code"]) == (503, "unavailable")
    assert client.call("GET", "/health")[1]["available"] is False
    down_file.unlink()
    assert deliver(client, key, payload(1))[1]["accepted"] is True


def test_deliveries_after_a_sequence_in_order(client, key):
    for n in (1, 2, 3):
        assert deliver(client, key, payload(n, kind=f"k{n}"))[0] == 200
    status, listing = client.call("GET", "/deliveries?after=1")
    assert status == 200
    assert [(d["sequence"], d["delivery_id"], d["kind"]) for d in listing["deliveries"]] == [
        (2, "d-0002", "k2"), (3, "d-0003", "k3")]
    assert set(listing["deliveries"][0]) == {"delivery_id", "sequence", "kind", "received_at", "payload"}
    assert client.call("GET", "/deliveries?after=3")[1]["deliveries"] == []
    status, reply = client.call("GET", "/deliveries?after=-1")
    assert (status, reply["code"]) == (400, "invalid_after")


def test_health(client, key):
    assert client.call("GET", "/health") == (200, {"destination": "tax", "last_sequence": 0, "count": 0,
                                                   "available": True})
    deliver(client, key, payload(1))
    deliver(client, key, payload(2))
    assert client.call("GET", "/health") == (200, {"destination": "tax", "last_sequence": 2, "count": 2,
                                                   "available": True})


def test_the_store_is_owner_only(tmp_path, client, key):
    deliver(client, key, payload(1))
    assert stat.S_IMODE((tmp_path / "tax.sqlite3").stat().st_mode) == 0o600


# -- the real process -------------------------------------------------------------------------------------

def _start(tmp_path: Path, pki_dir: Path, key_file: Path, port_file: Path) -> tuple[subprocess.Popen, str]:
    port_file.unlink(missing_ok=True)
    log = open(tmp_path / "receiver.log", "ab")  # noqa: SIM115 - the child holds it; closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "juki.linkage.receiver", "--destination", "tax", "--port", "0",
         "--pki", str(pki_dir), "--store", str(tmp_path / "store" / "tax.sqlite3"),
         "--sender-key", str(key_file), "--sender", SENDER, "--port-file", str(port_file)],
        stdout=log, stderr=log)
    log.close()
    deadline = time.monotonic() + 30
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError((tmp_path / "receiver.log").read_text())
        time.sleep(0.05)
    return proc, f"https://127.0.0.1:{port_file.read_text()}"


def test_the_process_keeps_what_it_acknowledged_through_sigkill(tmp_path, pki_dir, key):
    key_file = tmp_path / "sender.pem"
    key_file.write_text(signing.public_pem(key))
    port_file = tmp_path / "tax.port"
    first = signing.sign(key, payload(1))
    proc, url = _start(tmp_path, pki_dir, key_file, port_file)
    try:
        client = wire.Client(url, directory=pki_dir, name=SENDER, timeout=30)
        assert client.call("POST", "/deliveries", first) == (200, {"accepted": True, "duplicate": False,
                                                                   "sequence": 1})
        client.close()
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
        proc, url = _start(tmp_path, pki_dir, key_file, port_file)
        client = wire.Client(url, directory=pki_dir, name=SENDER, timeout=30)
        [kept] = client.call("GET", "/deliveries?after=0")[1]["deliveries"]
        assert (kept["delivery_id"], kept["payload"]) == ("d-0001", payload(1))
        assert client.call("POST", "/deliveries", first) == (200, {"accepted": False, "duplicate": True})
        assert deliver(client, key, payload(2))[1]["sequence"] == 2
        client.close()
        proc.terminate()  # SIGTERM: a clean stop, and the port file goes with it
        assert proc.wait(timeout=10) == 0
        assert not port_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_cli_refuses_a_destination_without_its_certificate(tmp_path, pki_dir, key):
    key_file = tmp_path / "sender.pem"
    key_file.write_text(signing.public_pem(key))
    result = subprocess.run(
        [sys.executable, "-m", "juki.linkage.receiver", "--destination", "school-affairs", "--pki", str(pki_dir),
         "--store", str(tmp_path / "s.sqlite3"), "--sender-key", str(key_file), "--sender", SENDER],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "school-affairs" in result.stderr
