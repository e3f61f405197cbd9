"""The Meltano Hub definitions in hub/ follow the Hub's schema rules and say what the plugins say.

The rules below are written from Meltano Hub's JSON schemas for plugin definitions
(`schemas/plugin_definitions/*.schema.json` and `schemas/common/*.schema.json` of meltano/hub);
each definition is then compared with its plugin's own `--about --format=json` and with the
project's meltano.yml.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.xdist_group("hub-definitions")

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "hub"
BIN = Path(sys.executable).parent
VARIANT = "consentsync"
REPO = "https://github.com/consentsync/consentsync"
DEFINITIONS = sorted(HUB.glob(f"*/*--{VARIANT}.yml"))
HOOK_RECEIVER = "autopilot-hook-receiver"  # a utility: no --about, its --help lists the settings

# --- Meltano Hub's schema rules ------------------------------------------------------------

_COMMON = {"name", "pip_url", "variant", "namespace", "label", "description", "executable",
           "settings", "docs", "repo", "logo_url", "hidden", "python", "settings_group_validation",
           "commands", "requires", "maintenance_status", "quality", "domain_url", "keywords",
           "definition", "next_steps", "settings_preamble", "usage", "prereq"}
ALLOWED_KEYS = {
    "extractors": _COMMON | {"capabilities", "metadata", "schema", "select",
                             "supported_python_versions", "log_parser"},
    "loaders": _COMMON | {"capabilities", "dialect", "target_schema", "supported_python_versions",
                          "log_parser"},
    "mappers": _COMMON | {"capabilities", "mappings"},
    "utilities": _COMMON | {"ext_repo", "supported_python_versions", "log_parser"},
}
REQUIRED_KEYS = {"extractors": {"name", "namespace", "variant", "quality"},
                 "loaders": {"name", "namespace", "variant", "quality"},
                 "mappers": {"name", "namespace", "variant"},
                 "utilities": {"name", "namespace", "variant"}}
CAPABILITIES = {
    "extractors": {"properties", "catalog", "discover", "state", "about", "stream-maps",
                   "schema-flattening", "activate-version", "batch", "test", "log-based",
                   "structured-logging"},
    "loaders": {"about", "stream-maps", "activate-version", "batch", "soft-delete", "hard-delete",
                "datatype-failsafe", "schema-flattening", "target-schema", "validate-records",
                "structured-logging"},
    "mappers": {"about", "schema-flattening", "stream-maps", "structured-logging"},
}
STRING_KEYS = {"name", "namespace", "variant", "label", "description", "pip_url", "executable",
               "repo", "ext_repo", "docs", "python", "definition", "next_steps",
               "settings_preamble", "usage", "prereq", "log_parser"}
NULLABLE_STRING_KEYS = {"logo_url", "domain_url"}
ENUMS = {"maintenance_status": {"active", "beta", "development", "inactive", "unknown"},
         "quality": {"gold", "silver", "bronze", "unknown"}}
SETTING_KEYS = {"name", "aliases", "label", "value", "placeholder", "kind", "description",
                "tooltip", "documentation", "env", "value_processor", "value_post_processor",
                "oauth", "options", "docs", "hidden", "sensitive"}
SETTING_STRING_KEYS = {"name", "label", "placeholder", "kind", "description", "tooltip",
                       "documentation", "env", "docs", "value_processor", "value_post_processor"}
KINDS = {"oauth", "hidden", "password", "date_iso8601", "file", "email", "integer", "options",
         "object", "array", "boolean", "string", "decimal"}
VALUE_PROCESSORS = {"upcase_string", "nest_object", "stringify"}


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _setting_problems(setting: object, where: str) -> Iterator[str]:
    if not isinstance(setting, dict) or not isinstance(setting.get("name"), str):
        yield f"{where}: a setting needs a string name"
        return
    where = f"{where}: setting {setting['name']}"
    for key in sorted(set(setting) - SETTING_KEYS):
        yield f"{where}: unknown key {key!r}"
    for key in sorted(SETTING_STRING_KEYS & set(setting)):
        if not isinstance(setting[key], str):
            yield f"{where}: {key} must be a string"
    if "kind" in setting and setting["kind"] not in KINDS:
        yield f"{where}: kind {setting['kind']!r} is not one of the Hub's kinds"
    for key in ("value_processor", "value_post_processor"):
        if key in setting and setting[key] not in VALUE_PROCESSORS:
            yield f"{where}: {key} {setting[key]!r} is not allowed"
    for key in ("hidden", "sensitive"):
        if key in setting and not isinstance(setting[key], bool):
            yield f"{where}: {key} must be true or false"
    if "aliases" in setting and not _strings(setting["aliases"]):
        yield f"{where}: aliases must be a list of strings"
    if "oauth" in setting and not (isinstance(setting["oauth"], dict)
                                   and isinstance(setting["oauth"].get("provider"), str)):
        yield f"{where}: oauth needs a provider"
    options = setting.get("options", [])
    if not (isinstance(options, list) and all(
            isinstance(o, dict) and all(isinstance(o.get(k, ""), str) for k in ("label", "value"))
            for o in options)):
        yield f"{where}: options must be a list of {{label, value}} strings"


def schema_problems(plugin_type: str, definition: object) -> list[str]:
    """What the Hub's schema for this plugin type would reject in a definition."""
    if not isinstance(definition, dict):
        return ["a definition is a mapping"]
    problems = [f"missing required key {key!r}"
                for key in sorted(REQUIRED_KEYS[plugin_type] - set(definition))]
    problems += [f"key {key!r} is not allowed for {plugin_type}"
                 for key in sorted(set(definition) - ALLOWED_KEYS[plugin_type])]
    for key in sorted(STRING_KEYS & set(definition)):
        if not isinstance(definition[key], str):
            problems.append(f"{key} must be a string")
    for key in sorted(NULLABLE_STRING_KEYS & set(definition)):
        if definition[key] is not None and not isinstance(definition[key], str):
            problems.append(f"{key} must be a string or null")
    if isinstance(definition.get("domain_url"), str) and not re.match(
            r"^https?://[^/\s]+", definition["domain_url"]):
        problems.append("domain_url must be a URI")
    for key, allowed in ENUMS.items():
        if key in definition and definition[key] not in allowed:
            problems.append(f"{key} {definition[key]!r} is not one of {sorted(allowed)}")
    if "hidden" in definition and not isinstance(definition["hidden"], bool):
        problems.append("hidden must be true or false")
    for key in ("keywords", "select"):
        if key in definition and not _strings(definition[key]):
            problems.append(f"{key} must be a list of strings")
    if "supported_python_versions" in definition and not (
            _strings(definition["supported_python_versions"]) and all(
                re.fullmatch(r"3\.\d+", v) for v in definition["supported_python_versions"])):
        problems.append("supported_python_versions must be like ['3.11', '3.12']")
    if "capabilities" in definition:
        capabilities = definition["capabilities"]
        if not _strings(capabilities):
            problems.append("capabilities must be a list of strings")
        else:
            problems += [f"capability {c!r} is not one of the Hub's for {plugin_type}"
                         for c in capabilities if c not in CAPABILITIES.get(plugin_type, set())]
    groups = definition.get("settings_group_validation", [])
    if not (isinstance(groups, list) and all(_strings(group) for group in groups)):
        problems.append("settings_group_validation must be a list of lists of setting names")
    settings = definition.get("settings", [])
    if not isinstance(settings, list):
        problems.append("settings must be a list")
    else:
        for setting in settings:
            problems += _setting_problems(setting, "settings")
    for key in ("commands", "metadata", "schema"):
        if key in definition and not isinstance(definition[key], dict):
            problems.append(f"{key} must be a mapping")
    mappings = definition.get("mappings", [])
    if not (isinstance(mappings, list) and all(
            isinstance(m, dict) and set(m) <= {"name", "config"}
            and isinstance(m.get("name", ""), str) and isinstance(m.get("config", {}), dict)
            for m in mappings)):
        problems.append("mappings must be a list of {name, config}")
    return problems


# --- what the plugins say ------------------------------------------------------------------


def flatten(properties: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict]]:
    """Settings as the Hub names them: an object of named sub-settings as dotted leaves
    (batch_config.encoding.format), an open mapping (stream_maps) as one object setting."""
    for name, schema in properties.items():
        nested = schema.get("properties")
        if nested and not any(key.startswith("__") for key in nested):
            yield from flatten(nested, f"{prefix}{name}.")
        else:
            yield prefix + name, schema


def expected_kind(schema: dict[str, Any]) -> str:
    """The Meltano setting kind of a JSON schema type.

    A number is `integer`, as on the Hub (its hub-utils map it so): Meltano 4.4's `decimal` turns
    a value from the environment into a Decimal it then cannot write into the plugin's config
    (a TypeError before the plugin starts); `integer` passes 40 from there and 0.5 from YAML.
    """
    if "enum" in schema:
        return "options"
    if schema.get("format") in ("date-time", "date"):
        return "date_iso8601"
    types: list[str] = []
    for alternative in [schema, *schema.get("oneOf", [])]:
        declared = alternative.get("type") or []
        types += [declared] if isinstance(declared, str) else declared
    types = [t for t in types if t != "null"] or ["string"]
    return {"string": "string", "integer": "integer", "number": "integer", "boolean": "boolean",
            "object": "object", "array": "array"}[types[0]]


def _run(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def definitions() -> dict[str, dict[str, Any]]:
    return {path.parent.name + "/" + path.name: _load(path) for path in DEFINITIONS}


@pytest.fixture(scope="module")
def abouts() -> dict[str, dict[str, Any]]:
    """Each plugin's `--about --format=json`, all asked at once."""
    names = [_load(path)["executable"] for path in DEFINITIONS
             if path.parent.name != "utilities"]
    with ThreadPoolExecutor(len(names)) as pool:
        outputs = pool.map(lambda name: _run(str(BIN / name), "--about", "--format=json"), names)
        return {name: json.loads(out) for name, out in zip(names, outputs, strict=True)}


@pytest.fixture(scope="module")
def project() -> dict[str, dict[str, Any]]:
    """The project's meltano.yml plugins by name."""
    plugins = _load(ROOT / "meltano.yml")["plugins"]
    return {p["name"]: {**p, "type": kind} for kind, items in plugins.items() for p in items}


def test_every_plugin_has_a_definition(project):
    # this project's own plugins: installed from its package folders (not Airflow or the like)
    expected = {f"{p['type']}/{name}--{VARIANT}.yml" for name, p in project.items()
                if str(p.get("pip_url", "")).startswith("--editable ./")}
    assert {f"{path.parent.name}/{path.name}" for path in DEFINITIONS} == expected


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.stem)
def test_definition_passes_the_hub_schema_rules(path):
    definition = _load(path)
    assert schema_problems(path.parent.name, definition) == []
    assert path.name == f"{definition['name']}--{VARIANT}.yml"
    assert definition["variant"] == VARIANT
    assert definition["namespace"] == definition["name"].replace("-", "_")
    assert definition["repo"] == REPO
    assert definition["docs"].startswith(REPO + "/")
    assert definition["pip_url"].startswith("consentsync-")
    assert (BIN / definition["executable"]).exists()
    assert definition["label"] and definition["description"] and definition["keywords"]
    assert None not in definition.values(), "leave out what there is not (a logo_url, say)"
    names = [s["name"] for s in definition["settings"]]
    assert len(names) == len(set(names)), "a setting is listed twice"
    for setting in definition["settings"]:
        assert setting.get("kind") and setting.get("label") and setting.get("description"), setting
        assert all(option.get("label") for option in setting.get("options", [])), setting
        if re.search(r"secret|token|password|api_key", setting["name"]):
            assert setting.get("sensitive") is True, setting["name"]
    for group in definition["settings_group_validation"]:
        assert set(group) <= set(names), group


@pytest.mark.parametrize(
    "plugin_type, broken, problem",
    [("extractors", {"quality": "unknown"}, "missing required key 'namespace'"),
     ("loaders", {"namespace": "x"}, "missing required key 'quality'"),
     ("loaders", {"namespace": "x", "quality": "unknown", "mappings": []},
      "key 'mappings' is not allowed"),
     ("mappers", {"namespace": "x", "settings": [{"name": "a", "kind": "text"}]}, "kind 'text'"),
     ("loaders", {"namespace": "x", "capabilities": ["discover"]}, "capability 'discover'"),
     ("mappers", {"namespace": "x", "settings": [{"name": "a", "secret": True}]},
      "unknown key 'secret'"),
     ("utilities", {"namespace": "x", "supported_python_versions": ["py3.11"]},
      "supported_python_versions"),
     ("mappers", {"namespace": "x", "mappings": [{"name": "m", "direction": "x"}]}, "mappings")])
def test_schema_rules_reject_what_the_hub_rejects(plugin_type, broken, problem):
    problems = schema_problems(plugin_type, {"name": "x", "variant": VARIANT, **broken})
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("path", [p for p in DEFINITIONS if p.parent.name != "utilities"],
                         ids=lambda p: p.stem)
def test_definition_says_what_about_says(path, abouts):
    definition = _load(path)
    about = abouts[definition["executable"]]
    assert about["name"] == definition["name"]
    assert about["description"] == definition["description"]
    assert about["version"] == metadata.version(definition["pip_url"])
    assert set(about["capabilities"]) == set(definition["capabilities"])
    if "supported_python_versions" in definition:
        assert about["supported_python_versions"] == definition["supported_python_versions"]
    said = dict(flatten(about["settings"]["properties"]))
    settings = {s["name"]: s for s in definition["settings"]}
    assert set(settings) == set(said)
    for name, schema in said.items():
        setting = settings[name]
        assert setting["kind"] == expected_kind(schema), name
        assert bool(setting.get("sensitive")) == bool(schema.get("secret")), name
        assert setting["description"] == schema.get("description"), (
            f"{name}: the definition's description differs from --about: "
            f"{schema.get('description')!r}")
        if "enum" in schema:
            values = [o["value"] for o in setting["options"]]
            assert values == [v for v in schema["enum"] if v is not None], name
    for mapping in definition.get("mappings", []):
        assert mapping["config"]["direction"] in said["direction"]["enum"], mapping


def test_hook_receiver_definition_says_what_its_help_says(definitions, abouts):
    definition = definitions[f"utilities/{HOOK_RECEIVER}--{VARIANT}.yml"]
    usage = _run(str(BIN / HOOK_RECEIVER), "--help")
    flags = set(re.findall(r"--([a-z][a-z-]*)", usage)) - {"help", "no-register"}
    assert {s["name"] for s in definition["settings"]} == {f.replace("-", "_") for f in flags}
    commands = re.search(r"\{([a-z,]+)\}", usage)
    assert commands and set(definition["commands"]) == set(commands.group(1).split(","))
    # the receiver ships in the tap's distribution
    assert definition["pip_url"] == _load(HUB / "extractors/tap-autopilot--consentsync.yml")[
        "pip_url"]
    assert definition["supported_python_versions"] == abouts["tap-autopilot"][
        "supported_python_versions"]


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.stem)
def test_meltano_yml_agrees_with_the_definition(path, project):
    definition = _load(path)
    plugin = project[definition["name"]]
    settings = {s["name"]: s for s in definition["settings"]}
    for setting in plugin.get("settings", []):
        name = setting["name"]
        assert name in settings, f"meltano.yml's {plugin['name']} has {name}; the definition not"
        hub = settings[name]
        assert setting.get("description") == hub["description"], (plugin["name"], name)
        assert setting.get("label") == hub["label"], (plugin["name"], name)
        kind = setting.get("kind", "string")
        assert kind == hub["kind"] or (kind == "string" and hub["kind"] == "options"), (
            plugin["name"], name, kind)
        assert bool(setting.get("sensitive")) == bool(hub.get("sensitive")), (plugin["name"], name)
    if path.parent.name in ("loaders", "mappers"):
        assert set(plugin["capabilities"]) == set(definition["capabilities"])
    elif "capabilities" in plugin:
        assert set(plugin["capabilities"]) <= set(definition["capabilities"])
    if "mappings" in definition:
        assert [m["name"] for m in plugin["mappings"]] == [m["name"] for m in
                                                           definition["mappings"]]
    if "commands" in definition:
        assert plugin["commands"] == definition["commands"]


def test_mapper_commands_exist():
    definition = _load(HUB / f"mappers/consent-mapper--{VARIANT}.yml")
    for name, command in definition["commands"].items():
        usage = _run(str(BIN / command["executable"]), "--help")
        choices = re.search(r"\{([a-z,-]+)\}", usage)
        assert choices and command["args"].split()[0] in choices.group(1).split(","), name
