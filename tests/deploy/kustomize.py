"""A small Kustomize renderer for deploy/k8s, so CI renders and validates the manifests with no binary.

kubectl carries Kustomize, but no package registry this project installs from carries kubectl or kustomize (Debian's
kubernetes-client is 1.20, with a Kustomize too old for ``patches`` with targets), so the tests render with this
module and, where kubectl is installed, check that it renders the same objects (tests/deploy/test_k8s.py).
It renders only what deploy/k8s uses, and refuses anything else in a kustomization rather than ignore it:

- ``resources``: YAML files and directories holding a ``kustomization.yaml``, in order;
- ``namespace``: set on every object;
- ``images``: ``name`` → ``newName`` / ``newTag`` in containers and init containers;
- ``patches``: strategic-merge patches from a file, applied to the object of the same kind and name, or to every
  object a ``target`` selects (``kind``, ``name``, ``labelSelector`` of ``key=value`` pairs).

The merge is the strategic merge of Kubernetes' built-in kinds as far as these manifests need it: maps merge key by
key (``null`` deletes), lists of maps merge by their key (``name``, or ``mountPath`` / ``containerPort``) with the
patch's items first and then the rest of the original's, in order (as kubectl orders them), other lists are replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]

KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
MERGE_KEYS = ("name", "mountPath", "containerPort")


def render(directory: Path) -> list[Doc]:
    """The objects of the kustomization in ``directory``, as kubectl kustomize would build them."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KNOWN_FIELDS
    if unknown:
        raise ValueError(f"{directory}: this renderer does not know {sorted(unknown)}")
    objects: list[Doc] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        if path.is_dir():
            objects.extend(render(path))
        else:
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    for patch in kustomization.get("patches", []):
        _apply_patch_file(objects, directory / patch["path"], patch.get("target"))
    for image in kustomization.get("images", []):
        _set_image(objects, image)
    if "namespace" in kustomization:
        for doc in objects:
            doc["metadata"]["namespace"] = kustomization["namespace"]
    _refuse_duplicates(objects)
    return objects


def _apply_patch_file(objects: list[Doc], path: Path, target: Doc | None) -> None:
    for patch in (doc for doc in yaml.safe_load_all(path.read_text()) if doc):
        chosen = [doc for doc in objects if _selected(doc, patch, target)]
        if not chosen:
            raise ValueError(f"{path}: the patch of {patch['kind']}/{patch['metadata']['name']} matches nothing")
        for doc in chosen:
            body = {key: value for key, value in patch.items() if key not in {"apiVersion", "kind", "metadata"}}
            meta = {key: value for key, value in patch["metadata"].items() if key != "name"} if target is None else {}
            merged = merge({**body, "metadata": meta}, doc) if meta else merge(body, doc)
            doc.clear()
            doc.update(merged)


def _selected(doc: Doc, patch: Doc, target: Doc | None) -> bool:
    if target is None:
        return bool(doc["kind"] == patch["kind"] and doc["metadata"]["name"] == patch["metadata"]["name"])
    unknown = set(target) - {"kind", "name", "labelSelector"}
    if unknown:
        raise ValueError(f"this renderer does not select by {sorted(unknown)}")
    if "kind" in target and doc["kind"] != target["kind"]:
        return False
    if "name" in target and doc["metadata"]["name"] != target["name"]:
        return False
    labels = doc["metadata"].get("labels") or {}
    for pair in filter(None, target.get("labelSelector", "").split(",")):
        key, _, value = pair.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def merge(patch: Any, original: Any) -> Any:
    """``original`` with ``patch`` merged into it (a new value; neither argument changes)."""
    if isinstance(patch, dict) and isinstance(original, dict):
        result = dict(original)
        for key, value in patch.items():
            if value is None:
                result.pop(key, None)
            elif key in original:
                result[key] = merge(value, original[key])
            else:
                result[key] = value
        return result
    if isinstance(patch, list) and isinstance(original, list):
        key = _merge_key(patch + original)
        if key is None:
            return patch
        by_key = {item[key]: item for item in original}
        merged = [merge(item, by_key[item[key]]) if item[key] in by_key else item for item in patch]
        patched = {item[key] for item in patch}
        return merged + [item for item in original if item[key] not in patched]
    return patch


def _merge_key(items: list[Any]) -> str | None:
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in MERGE_KEYS:
        if all(key in item for item in items):
            return key
    return None


def _set_image(objects: list[Doc], image: Doc) -> None:
    for doc in objects:
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            name, _, _tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image['newTag']}"


def _refuse_duplicates(objects: list[Doc]) -> None:
    seen: set[tuple[str, str]] = set()
    for doc in objects:
        key = (doc["kind"], doc["metadata"]["name"])
        if key in seen:
            raise ValueError(f"{key} is defined twice")
        seen.add(key)
