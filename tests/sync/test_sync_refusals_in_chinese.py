"""The sync server answers every refusal with a stable code beside its English words (programs read the code); the
client words a refusal it knows by its code in its user's language."""
from __future__ import annotations

import httpx
import pytest

from sync import crypto
from sync.client import SyncError
from sync.client.api import REFUSALS, refusal
from tests.support.english import english_in
from tests.support.sync_server import running_server
from tests.support.sync_team import Member, invite, join, make_team


@pytest.fixture
def server(tmp_path):
    with running_server("sqlite", tmp_path, None, max_body=256 * 1024) as backend:
        yield backend


def refusal_of(call) -> SyncError:
    with pytest.raises(SyncError) as caught:
        call()
    return caught.value


def test_every_error_answer_carries_a_code(server):
    missing = httpx.get(server.url + "/v1/nothing")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    admin = make_team(server.url)
    bad = refusal_of(lambda: admin.api.call("POST", admin.api.team_path("/push"), body=b"{nope"))
    assert bad.status == 400 and bad.body["code"] == "bad_request" and "not JSON" in bad.body["error"]
    big = crypto.canonical({"envelopes": [], "pad": "x" * (300 * 1024)})
    large = refusal_of(lambda: admin.api.call("POST", admin.api.team_path("/push"), body=big))
    assert large.body["code"] == "too_large" and large.body["limit"] == 256 * 1024


def test_a_known_refusal_is_said_in_chinese(server):
    admin = make_team(server.url)
    invite_id, token = invite(admin, "member", hours=-1)
    late = Member(server.url, admin.team, "late")
    expired = refusal_of(lambda: late.api.post(f"/v1/teams/{admin.team}/join",
                                               {"invite": invite_id, "token": crypto.b64e(token),
                                                "device": late.info()}))
    assert expired.body["code"] == "invite_expired"
    assert str(expired) == "the sync server refused: this invite has expired; ask an admin for a new one"
    assert expired.text("zh") == "同步服务器拒绝了请求：此邀请已过期；请向管理员索取新的邀请"
    viewer = join(admin, "viewer", "auditor")
    role = refusal_of(lambda: viewer.push(viewer.envelope()))
    assert role.body["code"] == "role_refused" and viewer.id in str(role)
    assert "只有" in role.text("zh") and viewer.id in role.text("zh")


def test_an_unknown_code_keeps_the_server_s_words():
    said = refusal({"error": "something new", "code": "from_a_newer_server"}, "something new")
    assert said.text("zh") == "something new"
    assert set(REFUSALS) >= {"invite_invalid", "invite_used", "invite_expired", "device_removed", "role_refused"}


def test_a_refusal_of_the_servers_storage_has_its_own_code_and_is_said_in_chinese(server):
    """What the storage refuses (a key epoch out of turn, a snapshot sent twice, a device it does not hold) comes
    back as a 4xx with a code of its own and the values it names, and the client words it in its user's language."""
    admin = make_team(server.url)
    key3 = crypto.new_team_key()
    wraps = {admin.id: crypto.wrap_key(key3, admin.keys.box_pub, crypto.key_context(admin.team, 3, admin.id))}
    skipped = refusal_of(lambda: admin.api.post(admin.api.team_path("/epochs"), {"epoch": 3, "wraps": wraps}))
    assert skipped.status == 409 and skipped.body["code"] == "epoch_not_next"
    assert (skipped.body["epoch"], skipped.body["current"]) == (3, 1)
    assert "does not follow" in skipped.body["error"]  # programs and older clients still read the English words
    assert skipped.text("zh") == "同步服务器拒绝了请求：密钥纪元 3 不是当前纪元 1 的下一个"
    ghost = refusal_of(lambda: admin.api.post(admin.api.team_path("/devices/abc123/revoke"), {}))
    assert ghost.status == 404 and ghost.body["code"] == "no_device" and ghost.body["device"] == "abc123"
    assert ghost.text("zh").startswith("同步服务器拒绝了请求：") and "abc123" not in REFUSALS["no_device"]
    assert english_in(ghost.text("zh")) is None and english_in(skipped.text("zh")) is None


def test_every_storage_refusal_code_is_one_the_client_words():
    from sync.protocol import STORAGE_REFUSALS

    assert set(STORAGE_REFUSALS) <= set(REFUSALS)
    for code, msgid in STORAGE_REFUSALS.items():
        assert REFUSALS[code] == msgid, code


def test_sync_init_and_now_report_in_chinese(cli, tmp_path, server):
    book = tmp_path / "zh.duly"
    assert cli("--ledger", book, "init").code == 0
    assert cli("--ledger", book, "customer", "add", "HD001", "--name", "上海恒达贸易有限公司").code == 0
    made = cli("--lang", "zh", "--ledger", book, "sync", "init", "--server", server.url, "--name", "laptop")
    assert made.code == 0, made.err
    assert "已在 " in made.out and "本设备" in made.out and "拉取 0 条变更" in made.out, made.out
    assert cli("--ledger", book, "customer", "add", "SZ002", "--name", "深圳某公司").code == 0
    now = cli("--lang", "zh", "--ledger", book, "sync", "now")
    assert now.code == 0 and "推送 1 条" in now.out and "服务器日志位置" in now.out, now.out
    for line in (made.out + made.err + now.out + now.err).splitlines():
        assert english_in(line.replace("duly sync join", "")) is None, line  # the command as typed may stay
