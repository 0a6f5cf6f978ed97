"""Label Studio: projects, task import and export through the SDK; signup is closed."""

import pytest
import requests

from labeling.client import LabelStudio

pytestmark = pytest.mark.integration

LABEL_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="category" toName="text">
    <Choice value="giao_thong"/><Choice value="moi_truong"/><Choice value="khac"/>
  </Choices>
</View>
"""

FEEDBACK = [
    "Đường Nguyễn Huệ bị ngập sau cơn mưa chiều nay",
    "Rác thải chưa được thu gom ở hẻm 42 Lê Lợi",
    "Đèn giao thông ở ngã tư Hàng Xanh không hoạt động",
]


def test_project_import_and_export(stack_ready, unique):
    ls = LabelStudio(stack_ready).sdk
    project = ls.projects.create(title=f"test-{unique}", label_config=LABEL_CONFIG)
    try:
        tasks = [{"data": {"text": t, "row_id": i}} for i, t in enumerate(FEEDBACK)]
        imported = ls.projects.import_tasks(id=project.id, request=tasks, return_task_ids=True)
        assert imported.task_count == len(FEEDBACK)
        task_ids = sorted(imported.task_ids)
        ls.annotations.create(
            id=task_ids[0],
            result=[
                {
                    "from_name": "category",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["moi_truong"]},
                }
            ],
        )
        exported = b"".join(
            ls.projects.exports.download_sync(id=project.id, export_type="JSON", download_all_tasks=True)
        )
        import json

        rows = json.loads(exported)
        assert sorted(r["data"]["text"] for r in rows) == sorted(FEEDBACK)
        annotated = [r for r in rows if r["annotations"]]
        assert len(annotated) == 1
        assert annotated[0]["annotations"][0]["result"][0]["value"]["choices"] == ["moi_truong"]
    finally:
        ls.projects.delete(id=project.id)


def test_wrong_token_is_refused(stack_ready):
    resp = requests.get(
        f"{stack_ready.label_studio.url}/api/projects",
        headers={"Authorization": "Token wrong-token-123456"},
        timeout=10,
    )
    assert resp.status_code == 401


def test_signup_without_invite_link_is_refused(stack_ready, unique):
    session = requests.Session()
    page = session.get(f"{stack_ready.label_studio.url}/user/signup/", timeout=10)
    token = session.cookies.get("csrftoken", "")
    resp = session.post(
        f"{stack_ready.label_studio.url}/user/signup/",
        data={
            "email": f"intruder-{unique}@example.org",
            "password": "Intruder-pass-1",
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": page.url},
        timeout=10,
        allow_redirects=False,
    )
    assert resp.status_code == 403
    users = requests.get(
        f"{stack_ready.label_studio.url}/api/users",
        headers={"Authorization": f"Token {stack_ready.label_studio.api_token.get_secret_value()}"},
        timeout=10,
    ).json()
    assert not any(u["email"] == f"intruder-{unique}@example.org" for u in users)


def test_signup_with_a_forged_invite_token_and_the_users_api_are_refused(stack_ready, unique):
    """Neither a made-up invite token nor the users API lets an anonymous visitor in."""
    url = stack_ready.label_studio.url
    email = f"intruder2-{unique}@example.org"
    session = requests.Session()
    page = session.get(f"{url}/user/signup/?token=forged-{unique}", timeout=10)
    resp = session.post(
        f"{url}/user/signup/?token=forged-{unique}",
        data={
            "email": email,
            "password": "Intruder-pass-1",
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
        },
        headers={"Referer": page.url},
        timeout=10,
        allow_redirects=False,
    )
    assert resp.status_code in (403, 404), resp.status_code
    api = requests.post(f"{url}/api/users/", json={"email": email, "password": "Intruder-pass-1"}, timeout=10)
    assert api.status_code in (401, 403), api.status_code
    users = requests.get(
        f"{url}/api/users",
        headers={"Authorization": f"Token {stack_ready.label_studio.api_token.get_secret_value()}"},
        timeout=10,
    ).json()
    assert not any(u["email"] == email for u in users)
