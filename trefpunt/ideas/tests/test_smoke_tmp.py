import pytest
from trefpunt.ideas import services
from .factories import *

pytestmark = pytest.mark.django_db

def test_flow():
    client = make_user()
    call = open_call(client, rewards=2)
    a = make_user(); b = make_user()
    i1 = post(call, a)
    i2 = post(call, b, title="Deposit on coffee cups", description="Deposit for every coffee cup")
    services.idea_vote(idea_id=i1.pk, user=b)
    services.idea_vote(idea_id=i1.pk, user=b)
    i1.refresh_from_db(); assert i1.score == 1
    services.comment_create(idea_id=i1.pk, user=b, body="Nice")
    sel = stage(call, "selected")
    services.idea_stage_move(idea_id=i1.pk, user=client, stage_id=sel.pk, reason="Great")
    assert balance(a) == 10000
    services.idea_merge(idea_id=i2.pk, into_id=i1.pk, user=client)
    services.call_close(call_id=call.pk, user=client, reason="Thanks all")
    assert escrow_balance(call) == 0
    assert_money_consistent()
