"""Static files in production: `collectstatic` with the production settings writes content-hashed
names and gzip variants, `{% static %}` renders the hashed names, and WhiteNoise serves them
cached for ten years (immutable), compressed when the client accepts it. Runs the production
settings in subprocesses (they need a secret), into a temporary STATIC_ROOT."""

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "vault" / "core" / "assets"
HASHED = r"\.[0-9a-f]{12}\."
# Django's admin, the project's own assets (vault/core/assets) and an app's static folder.
NAMES = [
    "admin/css/base.css",
    "admin/js/core.js",
    "coverage/dashboard.css",
    "coverage/dashboard.js",
    "vendor/chart.umd.min.js",
    "portal/portal.css",
]
FOREVER = "max-age=315360000, public, immutable"  # whitenoise.base.WhiteNoise.FOREVER, ten years

PROBE = """
import gzip, json, sys
from pathlib import Path
import django
django.setup()
from django.conf import settings
from django.template import Context, Template
from django.test import Client

def get(url, **headers):
    response = Client().get(url, secure=True, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body

out = {"backend": settings.STORAGES["staticfiles"]["BACKEND"], "rendered": {}, "served": {}}
for name in json.loads(sys.argv[1]):
    url = Template("{% load static %}{% static name %}").render(Context({"name": name}))
    out["rendered"][name] = url
    on_disk = (Path(settings.STATIC_ROOT) / url.removeprefix(settings.STATIC_URL)).read_bytes()
    zipped, zipped_body = get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    plain, plain_body = get(url)
    unhashed, _ = get(settings.STATIC_URL + name)
    out["served"][name] = {
        "status": zipped.status_code,
        "cache_control": zipped.headers.get("Cache-Control"),
        "content_encoding": zipped.headers.get("Content-Encoding"),
        "vary": zipped.headers.get("Vary"),
        "gzip_body_is_the_file": zipped_body[:2] == b"\\x1f\\x8b" and gzip.decompress(zipped_body) == on_disk,
        "plain_encoding": plain.headers.get("Content-Encoding"),
        "plain_body_is_the_file": plain_body == on_disk,
        "unhashed_cache_control": unhashed.headers.get("Cache-Control"),
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """collectstatic with the production settings; then the probe above. -> (STATIC_ROOT, findings)"""
    var = tmp_path_factory.mktemp("var")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "WHITENOISE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="p3Rw8Tz1Vb6Nq4Lx9Mc2Hs7Jd5Fk0Gy3Aa8Ue1Io6Pq4Zr2Wt9Xv5Bn7Cm0Kl3Dh",
        VAULT_VAR_DIR=str(var),
        LOG_LEVEL="WARNING",
    )
    collected = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    probed = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE, json.dumps(NAMES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probed.returncode == 0, probed.stderr
    return var / "static", json.loads(probed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def manifest(production):
    static_root, _ = production
    return json.loads((static_root / "staticfiles.json").read_text())["paths"]


def test_production_uses_the_hashed_compressed_storage(production):
    _, found = production
    assert found["backend"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.mark.parametrize("name", NAMES)
def test_collectstatic_writes_hashed_and_gzipped_names(production, manifest, name):
    static_root, _ = production
    stem, extension = name.rsplit(".", 1)
    hashed = manifest[name]
    assert re.fullmatch(re.escape(stem) + r"\.[0-9a-f]{12}\." + re.escape(extension), hashed)
    assert (static_root / hashed).is_file()
    compressed = static_root / f"{hashed}.gz"
    assert gzip.decompress(compressed.read_bytes()) == (static_root / hashed).read_bytes()


def test_the_hash_comes_from_the_content(manifest):
    """A file whose content changes gets a new name, so a browser never keeps a stale copy."""
    source = (ASSETS / "vendor" / "chart.umd.min.js").read_bytes()
    assert manifest["vendor/chart.umd.min.js"] == f"vendor/chart.umd.min.{hashlib.md5(source).hexdigest()[:12]}.js"  # noqa: S324


def test_hashed_css_references_only_hashed_files(production, manifest):
    """A stylesheet cached for ten years must not point at a name whose content can change."""
    static_root, _ = production
    css = (static_root / manifest["admin/css/base.css"]).read_text()
    references = [ref for ref in re.findall(r"url\(['\"]?([^'\")]+)", css) if not ref.startswith("data:")]
    assert references, "admin/css/base.css references its icons"
    assert all(re.search(HASHED, ref) for ref in references), references


@pytest.mark.parametrize("name", NAMES)
def test_static_tag_renders_the_hashed_name(production, manifest, name):
    _, found = production
    assert found["rendered"][name] == f"/static/{manifest[name]}"


@pytest.mark.parametrize("name", NAMES)
def test_whitenoise_serves_hashed_files_forever_and_compressed(production, name):
    _, found = production
    served = found["served"][name]
    assert served["status"] == 200
    assert served["cache_control"] == FOREVER
    assert served["content_encoding"] == "gzip" and served["gzip_body_is_the_file"]
    assert "Accept-Encoding" in served["vary"]
    assert served["plain_encoding"] is None and served["plain_body_is_the_file"]
    # The unhashed name may change content at the next deploy: cached briefly only.
    assert served["unhashed_cache_control"] == "max-age=60, public"
