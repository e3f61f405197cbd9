"""A local certificate authority and server certificate, kept in the state folder."""

from pathlib import Path

import trustme

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_FILE = "server.pem"


def ensure_certificates(state_dir: Path) -> tuple[Path, Path]:
    """Return (ca bundle, server cert+key); reuse the CA so clients keep trusting it."""
    ca_path, key_path = state_dir / CA_FILE, state_dir / CA_KEY_FILE
    if ca_path.exists() and key_path.exists():
        ca = trustme.CA.from_pem(ca_path.read_bytes(), key_path.read_bytes())
    else:
        ca = trustme.CA(organization_name="consentsync sandbox")
        ca.cert_pem.write_to_path(str(ca_path))
        ca.private_key_pem.write_to_path(str(key_path))
        key_path.chmod(0o600)
    server_path = state_dir / SERVER_FILE
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(server_path)
    )
    server_path.chmod(0o600)
    return ca_path, server_path
