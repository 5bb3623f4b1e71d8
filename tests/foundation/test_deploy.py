"""deploy/: one systemd unit per role that systemd accepts, each with its sample environment."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support.servers import ROOT

ROLES = {
    "identity": "8999",
    "api": "8888",
    "launch": "8081",
    "editor": "8080",
    "runner": None,
    "worker": None,
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_a_unit_running_serve_with_its_environment_file(role):
    unit = (ROOT / "deploy" / "systemd" / f"flomation-{role}.service").read_text()
    assert f"ExecStart=/opt/flomation/.venv/bin/python /opt/flomation/manage.py serve --role {role}\n" in unit
    assert f"EnvironmentFile=/etc/flomation/{role}.env\n" in unit
    sample = (ROOT / "deploy" / "env" / f"{role}.env").read_text()
    assert f"FLOMATION_ROLES={role}\n" in sample
    port = ROLES[role]
    assert (f"FLOMATION_BIND=127.0.0.1:{port}\n" in sample) if port else "FLOMATION_BIND" not in sample


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
@pytest.mark.parametrize("role", ROLES)
def test_systemd_accepts_the_unit(role, tmp_path):
    """Verified with the install paths pointed at this checkout (verify insists the programs exist)."""
    unit = (ROOT / "deploy" / "systemd" / f"flomation-{role}.service").read_text()
    environment = tmp_path / f"{role}.env"
    environment.write_text((ROOT / "deploy" / "env" / f"{role}.env").read_text())
    unit = unit.replace("/opt/flomation", str(ROOT)).replace(f"/etc/flomation/{role}.env", str(environment))
    path = tmp_path / f"flomation-{role}.service"
    path.write_text(unit)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in result.stderr.splitlines() if path.name in line or "flomation" in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_the_nginx_sample_proxies_the_editor_over_tls_with_unbuffered_event_streams():
    conf = (ROOT / "deploy" / "nginx-editor.conf").read_text()
    assert "listen 443 ssl;" in conf and "return 301 https://$host$request_uri;" in conf
    assert re.search(r"proxy_set_header X-Forwarded-Proto \$scheme;", conf)
    assert "proxy_buffering off;" in conf


def test_launch_has_a_site_of_its_own_outside_the_platforms_cookie_domain():
    common = (ROOT / "deploy" / "env" / "common.env").read_text()
    launch_host = re.search(r"^LAUNCH_URL=https://([^/\s]+)$", common, re.MULTILINE).group(1)
    cookie_domain = re.search(r"^AUTH_COOKIE_DOMAIN=(\S+)$", common, re.MULTILINE).group(1)
    editor_host = re.search(r"^EDITOR_URL=https://([^/\s]+)$", common, re.MULTILINE).group(1)
    assert launch_host != editor_host and not launch_host.endswith(cookie_domain)
    assert f"ALLOWED_HOSTS={launch_host}\n" in (ROOT / "deploy" / "env" / "launch.env").read_text()
    for role in ROLES:
        assert f"LAUNCH_URL=https://{launch_host}\n" in (ROOT / "deploy" / "env" / f"{role}.env").read_text()
    conf = (ROOT / "deploy" / "nginx-editor.conf").read_text()
    assert re.search(
        rf"server_name {re.escape(launch_host)};[^}}]*proxy_pass http://127.0.0.1:8081;", conf, re.S
    )


def test_the_nginx_sample_buffers_requests_and_drops_clients_that_stall():
    conf = (ROOT / "deploy" / "nginx-editor.conf").read_text()
    assert "proxy_request_buffering on;" in conf
    assert re.search(r"client_body_timeout \d+s;", conf) and re.search(r"client_header_timeout \d+s;", conf)


def test_the_runner_mtls_sample_refuses_connections_without_a_client_certificate_from_the_ca():
    conf = (ROOT / "deploy" / "nginx-runner-mtls.conf").read_text()
    assert "ssl_verify_client      on;" in conf and "ssl_client_certificate" in conf
    assert re.search(r"location /api/v1/runners/ \{[^}]*proxy_pass http://127.0.0.1:8888;", conf, re.S)
    for variable in ("MTLS_ENABLED", "MTLS_CERT", "MTLS_KEY", "MTLS_CA_CERT", "MTLS_API_URL"):
        assert variable in conf
