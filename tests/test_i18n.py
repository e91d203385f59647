"""The one message catalogue (store/locale/*/LC_MESSAGES/duly.po, compiled to .mo): every language says every
id the code uses, nothing more, with the same placeholders; the compiled files shipped in the wheel say what
the .po files say. How to add a string: tui/app/i18n.py's docstring."""
from __future__ import annotations

import gettext
import re
import string

import pytest

from store.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, translate
from tests.support.catalogue import po_path, read, used_ids
from tui.app.i18n import Strings

KEY_ID = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")  # "dash.as_of"; any other id is its own English words


def words(language: str) -> dict[str, str]:
    return {m.id: m.string for m in read(language) if m.id}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_id_is_said_once_in_each_language():
    """An id written twice in a .po silently replaces the first wording on every screen that uses it."""
    for language in LANGUAGES:
        said = [line for line in po_path(language).read_text(encoding="utf-8").splitlines()
                if line.startswith('msgid "') and line != 'msgid ""']
        assert sorted({m for m in said if said.count(m) > 1}) == [], language


def test_every_id_the_code_uses_has_words_in_every_language():
    used = used_ids()
    for language in LANGUAGES:
        have = {i for i, s in words(language).items() if s or (language == "en" and not KEY_ID.fullmatch(i))}
        missing = {i: used[i][0] for i in sorted(set(used) - have)}
        assert missing == {}, f"{language}: no words for these ids (run ./dev i18n, then fill in the .po)"


def test_no_catalogue_holds_an_id_the_code_does_not_use():
    used = set(used_ids())
    for language in LANGUAGES:
        unused = sorted(set(words(language)) - used)
        assert unused == [], f"{language}: remove these ids, or list them in tui.app.i18n.ALSO_USED"


def test_placeholders_are_the_same_in_every_language():
    english = {i: s or i for i, s in words("en").items()}
    for language in LANGUAGES:
        differ = {i: sorted(placeholders(s)) for i, s in words(language).items()
                  if s and placeholders(s) != placeholders(english.get(i, i))}
        assert differ == {}, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_says_what_its_po_file_says(language):
    """The .mo files are committed: one compiled from an older .po shows old words (run ./dev i18n)."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)._catalog
    written = {m.id: m.string for m in read(language) if m.id and m.string and not m.fuzzy}
    assert {k: v for k, v in compiled.items() if k} == written


def test_words_are_read_from_the_compiled_catalogue():
    assert translate("zh", "key.quit") == "退出"
    assert translate("en", "key.quit") == "Quit"
    assert Strings("zh")("dash.as_of", date="2026-06-30") == "截止 2026-06-30"
    assert Strings("fr")("key.quit") == "Quit"  # a language without a catalogue reads English


def test_an_id_missing_from_a_language_falls_back_to_english_then_to_the_id():
    assert translate("zh", "no.such.id") == "no.such.id"
    assert translate("en", "customer {code} not found", code="X1") == "customer X1 not found"


def test_one_rule_chooses_the_language_flag_then_env_then_device_then_locale():
    from tui.app.i18n import choose_language

    env = {"DULY_LANG": "en", "LANG": "zh_CN.UTF-8"}
    assert choose_language("zh", env, flag="zh") == "zh"
    assert choose_language("zh", env) == "en"  # DULY_LANG beats the setting
    assert choose_language("en", {"LANG": "zh_CN.UTF-8"}) == "en"  # the device's setting beats the locale
    assert choose_language(None, {"LANG": "zh_CN.UTF-8"}) == "zh"
    assert choose_language(None, {"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert choose_language(None, {"LANG": "C.UTF-8"}) == "en"
    assert choose_language(None, {}) == "en"


def test_cli_error_is_in_chinese_by_flag_env_or_locale(tmp_path):
    from tests.support.cli import assert_one_line_error, run_duly

    missing = tmp_path / "none.duly"
    for argv, env in ((["--lang", "zh"], {}), ([], {"DULY_LANG": "zh"}), ([], {"DULY_LANG": "", "LANG": "zh_CN.UTF-8"})):
        result = run_duly(*argv, "customer", "list", env={"DULY_LEDGER": str(missing), "DULY_PASSPHRASE": "x", **env})
        assert_one_line_error(result, 1, "没有账本", str(missing))
    english = run_duly("customer", "list", env={"DULY_LEDGER": str(missing), "DULY_PASSPHRASE": "x"})
    assert_one_line_error(english, 1, "no ledger at")


def test_the_device_language_setting_is_this_device_s(ledger):
    from store.write import settings

    ledger.conn.execute("INSERT INTO settings (id, value) VALUES ('language', 'zh')")  # as an older Duly synced it
    assert settings.get(ledger, "language") == "zh"
    settings.put(ledger, "language", "en")
    assert settings.get(ledger, "language") == "en"
    assert ledger.setting("language") == "zh"  # the synced value is not changed for the other devices


def test_help_says_how_the_language_is_chosen():
    from tests.support.cli import run_duly

    shown = run_duly("--help").out
    assert "--lang" in shown and "DULY_LANG" in shown and "LANG" in shown
