"""The demo dataset: two believable WhatsApp accounts served by the local fake provider.

Built on ``tests/fake_provider_server.FakeAccount`` (deterministic data, both
providers' API shapes), with people's names, group names and message texts a
visitor recognises. ``tools/demo.py`` (``./run-demo``) serves them.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tests'))

from fake_provider_server import FakeAccount  # noqa: E402

FIRST_NAMES = ['Ana', 'Luis', 'Marta', 'Jorge', 'Lucía', 'Pablo', 'Sofía', 'Diego', 'Elena', 'Hugo', 'Carmen',
               'Javier', 'Laura', 'Mateo', 'Paula', 'Daniel', 'Irene', 'Álvaro', 'Noa', 'Raúl', 'Chloé', 'Amir',
               'Priya', 'Kenji', 'Fatima', 'Oliver', 'Emma', 'Lars', 'Ingrid', 'Tomasz']
LAST_NAMES = ['García', 'Martín', 'López', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz', 'Díaz', 'Moreno', 'Muñoz',
              'Dubois', 'Rossi', 'Müller', 'Novak', 'Khan', 'Tanaka', 'Singh', 'Silva', 'Berg', 'Kowalski']
GROUP_NAMES = ['Sales team', 'Support – escalations', 'Warehouse Madrid', 'VIP customers', 'Trade fair 2026',
               'Delivery drivers', 'Product launch', 'Store managers', 'Returns desk', 'Friday lunch']
TEXTS = [
    'Hi! Is the order {n} ready for pickup?', 'Thanks, received!', 'Can you send me the invoice?',
    'The delivery arrived damaged, the box was open.', 'What time do you open on Saturday?',
    'Perfect, see you tomorrow at 10:00.', 'Could we move the meeting to Thursday?',
    'Price list attached, valid until the end of the month.', 'Is the blue model back in stock?',
    'Payment done.', 'I would like to return item {n}.', 'Great service, thank you!',
    'The driver is 10 minutes away.', 'Please call me back when you can.', 'Order {n} confirmed.',
]


class DemoAccount(FakeAccount):
    """A FakeAccount whose people, groups and messages read like a real business's."""

    def contact(self, index):
        contact = super().contact(index)
        if index not in self.contact_names:
            # every (first, last) pair once for the first few hundred people
            contact['name'] = '%s %s' % (
                FIRST_NAMES[index % len(FIRST_NAMES)],
                LAST_NAMES[(index // len(FIRST_NAMES) + index * 7 + self.seed) % len(LAST_NAMES)])
        contact['pushname'] = contact['name'].split()[0]
        return contact

    def group(self, index):
        group = super().group(index)
        group['name'] = GROUP_NAMES[(index + self.seed) % len(GROUP_NAMES)]
        group['description'] = 'WhatsApp group of the %s' % group['name'].lower()
        return group

    def message(self, index):
        message = super().message(index)
        if index >= self.n_messages:
            return message
        if message['type'] in ('text', 'image'):
            message['body'] = TEXTS[(index * 5 + self.seed) % len(TEXTS)].format(n='S%05d' % (index + 100))
        elif message['type'] == 'link_preview':
            message['body'] = 'Our new catalogue: https://example.com/catalogue/%d' % (index % 7 + 1)
        elif message['type'] not in ('system',):
            message['body'] = None  # a kind WhatsApp added after this version: stored, shown as "Other"
        return message

    def new_inbound(self, rng=random):
        """A new message from one of the account's contacts, now: appended to the
        provider's data (a later sync meets it again) and returned."""
        message = self.append_messages(1)[0]
        person = self.contact_key(rng.randrange(self.n_contacts))
        message.update(chat=person, chat_type='contact', sender=person, from_me=False, type='text',
                       status='delivered', body=rng.choice(TEXTS).format(n='S%05d' % rng.randrange(100000)))
        return message


def demo_accounts():
    """The demo accounts: (display name, DemoAccount, webhook secret). The provider
    serves the first two; the third one's token was revoked (the provider refuses
    it), to show how an account in trouble looks."""
    return [
        ('Demo Shop (WHAPI)', DemoAccount('whapi', 'demo-whapi-token', seed=1, contacts=120, groups=6,
                                          members=10, messages=400, days=14),
         'demo-whapi-webhook-secret'),
        ('Demo Support (Wassenger)', DemoAccount('wassenger', 'demo-wassenger-token', seed=2, contacts=80,
                                                 groups=4, members=8, messages=300, days=14),
         'demo-wassenger-webhook-secret'),
        ('Demo Old Number (WHAPI)', DemoAccount('whapi', 'demo-revoked-token', seed=3, contacts=5, groups=1,
                                                members=3, messages=10, days=14),
         'demo-old-webhook-secret'),
    ]


#: the provider serves these demo accounts (the others' tokens are refused)
SERVED = 2

#: people of the first demo account who are partners in Odoo already (linked by number)
PARTNER_CONTACTS = (0, 3, 7, 12, 20)
