"""Provider records as JSON and back: the ledger of side-effect calls keeps answers this way."""
from datetime import datetime, timezone

from providers import Group, GroupCreation, Member, SendResult, record_from_json, record_to_json


def test_records_survive_a_json_round_trip():
    creation = GroupCreation(group=Group('1203@g.us', name='Team', members=[Member('346', role='admin')],
                                         created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
                             added=['346'], refused=[('347', 'privacy settings')])
    assert record_from_json(record_to_json(creation)) == creation
    sent = SendResult('wamid.1', status='sent', whatsapp_message_id='wamid.1')
    assert record_from_json(record_to_json(sent)) == sent
