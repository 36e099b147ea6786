"""deploy/k8s renders, validates offline and wires what the services read (issue 15 §3).

- Rendered by tests/deploy/kustomize.py (no binary needed); where kubectl is installed, kubectl renders the same.
- The built-in kinds are validated by kubernetes-validate against Kubernetes 1.33's schemas (strict: an unknown
  field fails); the CloudNativePG kinds against their CRDs' OpenAPI schemas, copied under deploy/k8s/schemas/
  (CloudNativePG v1.30.0, Barman Cloud plugin v0.14.0), with unknown fields refused too.
- Every setting of services/core/config.py is a ConfigMap value or a Secret reference in the production overlay,
  or is listed in tests/deploy/defaults_kept.py; no manifest names a setting that does not exist.
- The security rules: non-root, read-only root filesystem, no privilege escalation, all capabilities dropped,
  seccomp RuntimeDefault, requests and limits on every container, probes on every API, no inline secret.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr

from services.core.config import Settings, environment
from services.core.embedded_pg import REPO_ROOT
from tests.deploy.defaults_kept import DEFAULTS_KEPT
from tests.deploy.kustomize import render

K8S = REPO_ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"  # the oldest minor CloudNativePG 1.30 supports that the schemas bundle
TREES = {"base": K8S / "base", "production": K8S / "overlays" / "production", "recovery": K8S / "overlays" / "recovery"}
API_MODULES = {"intake": "intake_api", "workflow": "workflow_api", "notify": "notify_api"}
Doc = dict[str, Any]


@cache
def rendered(tree: str) -> tuple[Doc, ...]:
    return tuple(render(TREES[tree]))


def one(tree: str, kind: str, name: str) -> Doc:
    (doc,) = [d for d in rendered(tree) if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def pod_templates(tree: str) -> Iterator[tuple[str, Doc]]:
    for doc in rendered(tree):
        if doc["kind"] in {"Deployment", "Job"}:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]


def containers(pod: Doc) -> list[Doc]:
    return list(pod["spec"].get("initContainers", [])) + list(pod["spec"]["containers"])


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2's reading of plain scalars as kubectl writes them: a time is a string (PyYAML would make it a
    datetime), so recoveryTarget.targetTime, which kubectl prints unquoted, compares equal to ours."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@pytest.mark.parametrize("tree", TREES)
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_renders_the_same_objects(tree: str) -> None:
    out = subprocess.run(["kubectl", "kustomize", str(TREES[tree])], capture_output=True, text=True, check=True)
    theirs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.load_all(out.stdout, Yaml12Loader) if d}
    ours = {(d["kind"], d["metadata"]["name"]): d for d in rendered(tree)}
    assert ours == theirs


@pytest.mark.parametrize("tree", TREES)
def test_built_in_kinds_are_valid_kubernetes(tree: str) -> None:
    built_in = [d for d in rendered(tree) if not d["apiVersion"].split("/")[0].endswith("cnpg.io")]
    assert {d["kind"] for d in built_in} >= {
        "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
        "Job", "ConfigMap", "PersistentVolumeClaim",
    }  # fmt: skip
    for doc in built_in:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_an_unknown_field_fails_validation() -> None:
    """The validation is not vacuous: a misspelt field of a Deployment or a Cluster is refused."""
    deployment = yaml.safe_load(yaml.safe_dump(one("production", "Deployment", "intake")))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/readyz"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    cluster = yaml.safe_load(yaml.safe_dump(one("production", "Cluster", "motcua-db")))
    cluster["spec"]["instance"] = 3
    with pytest.raises(jsonschema.ValidationError):
        crd_validator("Cluster").validate(cluster)


@cache
def crd_validator(kind: str) -> jsonschema.Draft7Validator:
    for path in (K8S / "schemas").glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] == kind:
            (version,) = [v for v in crd["spec"]["versions"] if v["served"] and v["storage"]]
            return jsonschema.Draft7Validator(_closed(version["schema"]["openAPIV3Schema"]))
    raise LookupError(kind)


def _closed(schema: Any) -> Any:
    """The schema with unknown fields refused where the API server would prune them (a typo is silently lost)."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    open_ended = "additionalProperties" in closed or closed.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in closed and not open_ended:
        closed["additionalProperties"] = False
    return closed


@pytest.mark.parametrize("tree", TREES)
def test_cloudnative_pg_kinds_match_their_crds(tree: str) -> None:
    custom = [d for d in rendered(tree) if d["apiVersion"].split("/")[0].endswith("cnpg.io")]
    assert sorted(d["kind"] for d in custom) == ["Cluster", "ObjectStore", "Pooler", "ScheduledBackup"]
    for doc in custom:
        crd_validator(doc["kind"]).validate({**doc, "metadata": {}})


def test_the_database_is_highly_available_and_backed_up() -> None:
    cluster = one("production", "Cluster", "motcua-db")["spec"]
    assert cluster["instances"] == 3
    assert cluster["postgresql"]["synchronous"]["number"] >= 1
    assert cluster["postgresql"]["synchronous"]["dataDurability"] == "required"
    (archiver,) = [p for p in cluster["plugins"] if p.get("isWALArchiver")]
    store = archiver["parameters"]["barmanObjectName"]
    assert one("production", "ObjectStore", store)["spec"]["configuration"]["wal"]
    backup = one("production", "ScheduledBackup", "motcua-db-nightly")["spec"]
    assert backup["cluster"]["name"] == "motcua-db"
    assert backup["pluginConfiguration"]["name"] == archiver["name"]
    pooler = one("production", "Pooler", "motcua-db-pooler-rw")["spec"]
    assert pooler["pgbouncer"]["poolMode"] == "transaction"
    assert int(pooler["pgbouncer"]["parameters"]["max_prepared_statements"]) > 0  # asyncpg's named statements


def test_point_in_time_recovery_replays_the_archive_up_to_a_time() -> None:
    cluster = one("recovery", "Cluster", "motcua-db")["spec"]
    assert set(cluster["bootstrap"]) == {"recovery"}
    recovery = cluster["bootstrap"]["recovery"]
    assert recovery["recoveryTarget"]["targetTime"]
    (source,) = [c for c in cluster["externalClusters"] if c["name"] == recovery["source"]]
    assert source["plugin"]["parameters"]["serverName"] == "motcua-db"  # the archive of production's cluster
    (archiver,) = [p for p in cluster["plugins"] if p.get("isWALArchiver")]
    assert archiver["parameters"]["serverName"] != "motcua-db"  # never written over the archive it replays


def app_environment(tree: str, deployment: str) -> dict[str, Doc]:
    """The `app` container's variables: the ConfigMaps it loads, then its own `env` (which wins)."""
    (container,) = [c for c in one(tree, "Deployment", deployment)["spec"]["template"]["spec"]["containers"]]
    variables: dict[str, Doc] = {}
    for source in container.get("envFrom", []):
        data = one(tree, "ConfigMap", source["configMapRef"]["name"])["data"]
        variables.update({name: {"name": name, "value": value} for name, value in data.items()})
    variables.update({item["name"]: item for item in container.get("env", [])})
    return variables


APP_DEPLOYMENTS = [*API_MODULES, *(f"{name}-worker" for name in API_MODULES)]


@pytest.mark.parametrize("deployment", APP_DEPLOYMENTS)
def test_every_setting_is_wired_or_kept_at_its_default(deployment: str) -> None:
    names = set(environment())
    variables = app_environment("production", deployment)
    wired = {name for name in variables if name.startswith("MOTCUA_")}
    assert wired - names == set(), "a manifest sets a name no setting reads"
    assert set(DEFAULTS_KEPT) - names == set(), "defaults_kept.py lists a name no setting reads"
    assert names - wired - set(DEFAULTS_KEPT) == set(), "wire these settings or list them in defaults_kept.py"
    assert wired & set(DEFAULTS_KEPT) == set(), "wired settings are not defaults kept"


@pytest.mark.parametrize("deployment", APP_DEPLOYMENTS)
def test_the_wired_values_are_accepted_by_the_services(deployment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process started with the production environment (Secrets stood in by 48 random bytes) gets valid settings
    and passes the start-up refusals: no value out of range, no demo mode, no default secret."""
    for name in environment():
        monkeypatch.delenv(name, raising=False)
    values: dict[str, str] = {}
    for name, item in app_environment("production", deployment).items():
        if "valueFrom" in item:
            values[name] = secrets.token_hex(24)
        else:
            values[name] = re.sub(r"\$\((\w+)\)", lambda ref: values[ref.group(1)], item["value"])
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    settings.refuse_unsafe_start()
    assert settings.demo is False
    assert settings.docs_public is False
    assert settings.db.resolved_url().startswith("postgresql+asyncpg://motcua_app:")
    assert str(settings.files_dir) == "/var/lib/motcua/files"


def _secret_names() -> set[str]:
    """The environment names of the SecretStr settings, and the URLs that carry the database password."""
    secret = {"MOTCUA_DATABASE_URL", "MOTCUA_DB_DIRECT_URL"}
    for env_name, (group, field) in environment().items():
        model = type(getattr(Settings(), group)) if group else Settings
        annotation = model.model_fields[field].annotation
        if SecretStr in {annotation, *getattr(annotation, "__args__", ())}:
            secret.add(env_name)
    return secret


@pytest.mark.parametrize("tree", TREES)
def test_secrets_are_referenced_never_inlined(tree: str) -> None:
    assert [d for d in rendered(tree) if d["kind"] == "Secret"] == []
    secret = _secret_names()
    assert "MOTCUA_JWT_SECRET" in secret
    for where, pod in pod_templates(tree):
        for container in containers(pod):
            for item in container.get("env", []):
                if item["name"] in secret and "value" in item:
                    # a URL may only splice in a variable that is itself a Secret reference
                    refs = {i["name"] for i in container["env"] if "secretKeyRef" in i.get("valueFrom", {})}
                    assert any(f"$({ref})" in item["value"] for ref in refs), (where, item["name"])
                    assert ":$(" in item["value"], (where, item["name"])
    for doc in rendered(tree):
        if doc["kind"] == "ConfigMap":
            assert set(doc["data"]) & secret == set(), doc["metadata"]["name"]


def test_requests_go_through_the_pooler_and_sessions_to_the_primary() -> None:
    for deployment in APP_DEPLOYMENTS:
        variables = app_environment("production", deployment)
        assert "@motcua-db-pooler-rw:" in variables["MOTCUA_DATABASE_URL"]["value"]
        assert "@motcua-db-rw:" in variables["MOTCUA_DB_DIRECT_URL"]["value"]  # LISTEN, the counters
        assert variables["MOTCUA_DATABASE_URL"]["value"].startswith("postgresql://motcua_app:")


@pytest.mark.parametrize("tree", TREES)
def test_every_container_is_hardened_and_sized(tree: str) -> None:
    templates = dict(pod_templates(tree))
    assert len(templates) == 8  # three APIs, three workers, the web front, the migration
    for where, pod in templates.items():
        pod_security = pod["spec"].get("securityContext", {})
        assert pod["spec"].get("automountServiceAccountToken") is False, where
        for container in containers(pod):
            security = {**pod_security, **container.get("securityContext", {})}
            label = (where, container["name"])
            assert security.get("runAsNonRoot") is True, label
            assert security.get("runAsUser", 0) != 0, label
            assert security.get("readOnlyRootFilesystem") is True, label
            assert security.get("allowPrivilegeEscalation") is False, label
            assert security.get("capabilities", {}).get("drop") == ["ALL"], label
            assert security.get("seccompProfile", {}).get("type") == "RuntimeDefault", label
            assert "privileged" not in security, label
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), label
            assert "memory" in resources.get("limits", {}), label
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, label  # the one writable place besides the files volume


@pytest.mark.parametrize("api", API_MODULES)
def test_every_api_is_probed_and_served(api: str) -> None:
    deployment = one("production", "Deployment", api)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert f"{API_MODULES[api]}.main:create_app" in container["command"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    service = one("production", "Service", api)
    assert service["spec"]["ports"][0]["port"] == 8000
    assert f"server {api}:8000;" in (REPO_ROOT / "deploy" / "nginx" / "motcua.conf").read_text()
    assert one("production", "HorizontalPodAutoscaler", api)["spec"]["minReplicas"] >= 2
    assert "replicas" not in deployment["spec"]  # the autoscaler owns it
    assert one("production", "PodDisruptionBudget", api)["spec"]["maxUnavailable"] == 1


def test_uploaded_files_are_one_volume_shared_by_the_intake_replicas() -> None:
    claim = one("production", "PersistentVolumeClaim", "motcua-files")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    pod = one("production", "Deployment", "intake")["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v.get("persistentVolumeClaim")]
    assert volume["persistentVolumeClaim"]["claimName"] == "motcua-files"
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["mountPath"] == app_environment("production", "intake")["MOTCUA_FILES_DIR"]["value"]


def _peers(policy: Doc, direction: str) -> list[Doc]:
    side = "from" if direction == "ingress" else "to"
    return [peer for rule in policy["spec"].get(direction, []) for peer in rule.get(side, [])]


def test_only_the_gateway_and_our_processes_reach_the_apis_and_only_db_clients_the_database() -> None:
    policies = {d["metadata"]["name"]: d for d in rendered("production") if d["kind"] == "NetworkPolicy"}
    deny = policies["motcua-default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny
    assert "egress" not in deny
    api_peers = _peers(policies["motcua-api-ingress"], "ingress")
    assert {p["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for p in api_peers} == {
        "web", "api", "worker",
    }  # fmt: skip
    assert all("namespaceSelector" not in p and "ipBlock" not in p for p in api_peers)
    db_peers = _peers(policies["motcua-db-instances"], "ingress") + _peers(policies["motcua-db-pooler"], "ingress")
    for peer in db_peers:
        labels = peer.get("podSelector", {}).get("matchLabels", {})
        namespace = peer.get("namespaceSelector", {}).get("matchLabels", {})
        assert labels in ({"cnpg.io/cluster": "motcua-db"}, {"cnpg.io/poolerName": "motcua-db-pooler-rw"},
                          {"motcua.gov.vn/db-client": "true"}) or namespace == {
            "kubernetes.io/metadata.name": "cnpg-system"
        }, peer  # fmt: skip
    clients = {
        where for where, pod in pod_templates("production")
        if pod["metadata"]["labels"].get("motcua.gov.vn/db-client") == "true"
    }  # fmt: skip
    assert clients == {f"Deployment/{name}" for name in APP_DEPLOYMENTS} | {"Job/motcua-migrate"}
    internet = [p for p in _peers(policies["motcua-worker-egress"], "egress") if "ipBlock" in p]
    assert internet
    assert all("10.0.0.0/8" in p["ipBlock"]["except"] for p in internet)
    worker_selector = policies["motcua-worker-egress"]["spec"]["podSelector"]["matchLabels"]
    assert worker_selector["app.kubernetes.io/component"] == "worker"  # the APIs do not leave the cluster


def test_the_apps_wait_for_the_migration() -> None:
    job = one("production", "Job", "motcua-migrate")["spec"]["template"]["spec"]
    assert job["containers"][0]["command"] == ["alembic", "upgrade", "head"]
    assert job["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "motcua-db-app"  # the owner
    for deployment in APP_DEPLOYMENTS:
        (init,) = one("production", "Deployment", deployment)["spec"]["template"]["spec"]["initContainers"]
        assert "alembic current --check-heads" in " ".join(init["command"])


@pytest.mark.parametrize(("image", "dockerfile"), [("motcua-app", "Dockerfile"), ("motcua-web", "web.Dockerfile")])
def test_every_image_is_built_from_the_repository(image: str, dockerfile: str) -> None:
    """The two images the manifests name, and what their Dockerfiles copy, exist in the repository."""
    text = (REPO_ROOT / "deploy" / "docker" / dockerfile).read_text()
    for line in text.splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (REPO_ROOT / source).exists(), (dockerfile, source)
    named = {
        container["image"]
        for _, pod in pod_templates("base")
        for container in containers(pod)
        if container["image"].startswith(image)
    }
    assert named == {image}
    if image == "motcua-web":
        ports = one("base", "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]["ports"]
        assert "listen 8080;" in (REPO_ROOT / "deploy" / "nginx" / "motcua.conf").read_text()
        assert ports[0]["containerPort"] == 8080
