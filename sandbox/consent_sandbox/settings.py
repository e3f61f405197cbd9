"""Settings of one sandbox process, and the fixed credentials it accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
DEMO_SYSTEMS = ("salesforce", "autopilot", "activecampaign")


@dataclass(frozen=True)
class SalesforceCredentials:
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    username: str = "integration@sandbox.example"
    password: str = "sandbox-password"
    security_token: str = "SANDBOXTOKEN"
    refresh_token: str = "sandbox-refresh-token"


@dataclass
class SandboxSettings:
    state_dir: Path
    salesforce_port: int = 8443
    autopilot_port: int = 8444
    demo_size: int = 0
    demo_seed: int = 7
    demo_systems: tuple[str, ...] = DEMO_SYSTEMS  # the stand-ins the demo data goes into
    token_ttl_seconds: int = 7200
    daily_api_limit: int = 100_000
    bulk_pending_polls: int = 1  # reads of a Bulk job's info that still say InProgress
    autopilot_rate_limit: float = 5.0  # requests a second, as documented
    autopilot_api_key: str = "sandbox-autopilot-key"
    activecampaign_port: int = 8445
    activecampaign_rate_limit: float = 5.0  # requests a second, as documented
    activecampaign_api_token: str = "sandbox-activecampaign-token"
    # unconfirmed in the real API: whether a list-status change moves the contact's `udate`
    activecampaign_list_status_moves_udate: bool = False
    salesforce: SalesforceCredentials = field(default_factory=SalesforceCredentials)

    @property
    def salesforce_db(self) -> Path:
        return self.state_dir / "salesforce.db"

    @property
    def autopilot_db(self) -> Path:
        return self.state_dir / "autopilot.db"

    @property
    def activecampaign_db(self) -> Path:
        return self.state_dir / "activecampaign.db"
