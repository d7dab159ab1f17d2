# -*- coding: utf-8 -*-
import datetime
import logging

import psycopg2

from odoo import api, fields, models

from ..providers.parsing import clean_text

_logger = logging.getLogger(__name__)

#: unique_violation, serialization_failure: a concurrent transaction stored the key
CONCURRENT_INSERT_ERRORS = ('23505', '40001')
#: rows per multi-row INSERT (about 20 parameters each)
INSERT_BATCH_SIZE = 500


def to_naive_utc(value):
    """An aware datetime as Odoo stores it: naive UTC, whole seconds."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0)


def _storable(value):
    """Text PostgreSQL can store, for values that did not come through the parsers
    (a typed message, an edit): the one cleaner the parsers use."""
    return clean_text(value) if isinstance(value, str) else value


class UpsertStats(object):
    """Counts of one upsert, added up per kind on the sync log."""

    __slots__ = ('created', 'updated', 'unchanged', 'changed_ids')

    def __init__(self, created=0, updated=0, unchanged=0):
        self.created = created
        self.updated = updated
        self.unchanged = unchanged
        #: ids of the rows this upsert created or wrote
        self.changed_ids = []

    def __iadd__(self, other):
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self

    def __repr__(self):
        return 'UpsertStats(created=%d, updated=%d, unchanged=%d)' % (
            self.created, self.updated, self.unchanged)


class WhatsappSyncMixin(models.AbstractModel):
    """The one batch upsert every synced model uses.

    A batch costs one SELECT for the rows that exist, one ``create()`` for the
    new ones and one ``write()`` per distinct set of changed values, so a page
    of N records never costs N searches, and a re-run with no remote change
    writes nothing at all. The SQL unique constraint of each model on its
    key fields backs it against concurrent inserts.
    """
    _name = 'whatsapp.sync.mixin'
    _description = 'WhatsApp synced record'

    #: fields that identify a record, in the order of the key tuples used below
    _upsert_key_fields = ()

    @api.model
    def _upsert(self, vals_list, update=True, create=True):
        """Create or update the records described by ``vals_list``.

        Every dict holds all ``_upsert_key_fields``; the last dict wins when
        two share a key. ``update=False`` only creates what is missing (for
        rows met in passing, e.g. a message's sender, whose richer data comes
        from its own sync); ``create=False`` only updates what exists (a
        status for a message we never stored is not a message). Returns
        ``(records by key, UpsertStats)``; keys neither found nor created are
        absent from the dict.
        """
        key_fields = self._upsert_key_fields
        by_key = {}
        for vals in vals_list:
            vals = {name: _storable(value) for name, value in vals.items()}
            by_key[tuple(vals[name] for name in key_fields)] = vals
        stats = UpsertStats()
        if not by_key:
            return {}, stats
        value_fields = sorted({name for vals in by_key.values() for name in vals} - set(key_fields))
        existing = self._upsert_read_existing(key_fields, value_fields if update else [], list(by_key))

        ids_by_key = {}
        to_create = []
        writes = {}
        for key, vals in by_key.items():
            row = existing.get(key)
            if row is None:
                if create:
                    to_create.append(vals)
                continue
            ids_by_key[key] = row['id']
            changed = {}
            if update:
                for name in value_fields:
                    if name in vals and not self._upsert_same(name, row[name], vals[name]):
                        changed[name] = vals[name]
            if changed:
                writes.setdefault(self._upsert_freeze(changed), []).append(row['id'])
            else:
                stats.unchanged += 1
        if to_create:
            created = self._create_tolerant(to_create)
            for vals, record in created:
                ids_by_key[tuple(vals[name] for name in key_fields)] = record.id
                stats.changed_ids.append(record.id)
            stats.created += len(created)
            stats.unchanged += len(to_create) - len(created)  # stored meanwhile by another transaction
        for frozen, ids in writes.items():
            self.browse(ids).write(dict(frozen))
            stats.updated += len(ids)
            stats.changed_ids.extend(ids)
        return {key: self.browse(rec_id) for key, rec_id in ids_by_key.items()}, stats

    def _create_tolerant(self, vals_list):
        """Insert the new rows in multi-row statements; return (vals, record) for
        each row this transaction stored.

        Odoo 14's ``create()`` sends one INSERT per row, which caps a first import
        of a large account. The synced models carry no translation, tracking,
        Python constraint or stored computed field, so a plain INSERT stores what
        ``create()`` would: the same column conversions, defaults and magic
        columns. ``ON CONFLICT DO NOTHING``: a key a concurrent transaction (a
        webhook, another worker) committed meanwhile is left to it, instead of
        failing the page or the send.
        """
        # callers run as superuser after their own checks; never a path around the rules
        self.check_access_rights('create')
        assert self.env.su, 'the batch insert bypasses record rules'

        defaults = {name: field.default(self) for name, field in self._fields.items()
                    if field.store and field.column_type and field.default and name not in models.MAGIC_COLUMNS}
        names = sorted(set(defaults) | {name for vals in vals_list for name in vals})
        columns = [self._fields[name] for name in names]
        keys = self._upsert_key_fields
        row_format = '(%s, %s, now() at time zone \'UTC\', now() at time zone \'UTC\', ' \
            + ', '.join(field.column_format for field in columns) + ')'

        def insert(chunk):
            params = []
            for vals in chunk:
                params += [self.env.uid, self.env.uid]
                for name, field in zip(names, columns):
                    value = vals[name] if name in vals else defaults.get(name)
                    params.append(field.convert_to_column(value, self, vals))
            query = 'INSERT INTO "{table}" (create_uid, write_uid, create_date, write_date, {cols}) ' \
                    'VALUES {rows} ON CONFLICT ({keys}) DO NOTHING RETURNING id, {keys}'.format(
                        table=self._table, cols=', '.join('"%s"' % name for name in names),
                        rows=', '.join([row_format] * len(chunk)), keys=', '.join('"%s"' % name for name in keys))
            with self.env.cr.savepoint(flush=False):
                # a concurrent insert of the same key is expected and handled below: no ERROR line
                self.env.cr.execute(query, params, log_exceptions=False)
                stored = {tuple(found[1:]): found[0] for found in self.env.cr.fetchall()}
            return [(vals, self.browse(stored[tuple(vals[name] for name in keys)])) for vals in chunk
                    if tuple(vals[name] for name in keys) in stored]

        created = []
        for start in range(0, len(vals_list), INSERT_BATCH_SIZE):
            chunk = vals_list[start:start + INSERT_BATCH_SIZE]
            try:
                created += insert(chunk)
            except psycopg2.Error as error:
                # Odoo runs REPEATABLE READ: a key committed by a concurrent transaction
                # after our snapshot is a serialization failure, not a silent conflict.
                if error.pgcode not in CONCURRENT_INSERT_ERRORS:
                    raise
                for vals in chunk:
                    try:
                        created += insert([vals])
                    except psycopg2.Error as row_error:
                        if row_error.pgcode not in CONCURRENT_INSERT_ERRORS:
                            raise
                        _logger.info('%s: %s was stored meanwhile by a concurrent transaction',
                                     self._name, tuple(vals[name] for name in keys))
        self._invalidate_inverses(names)
        return created

    def _invalidate_inverses(self, names):
        """New rows bypassed the ORM: one2many caches of their parents must be re-read."""
        for name in names:
            field = self._fields[name]
            if field.type == 'many2one':
                for inverse in self._field_inverses[field]:
                    self.env.cache.invalidate([(inverse, None)])

    def _upsert_read_existing(self, key_fields, value_fields, keys):
        """Read the rows of ``keys`` in one query, as plain column values.

        Plain SQL rather than ``search()`` + ``read()``: the comparison needs
        raw stored values, not ``name_get`` pairs, and this runs once per page
        on accounts with hundreds of thousands of rows. Sync runs as superuser,
        so record rules do not apply here anyway.
        """
        self.flush(list(key_fields) + list(value_fields))
        columns = ['id'] + list(key_fields) + list(value_fields)
        conditions = []
        params = []
        for position, name in enumerate(key_fields):
            conditions.append('"%s" = ANY(%%s)' % name)
            params.append(list({key[position] for key in keys}))
        query = 'SELECT %s FROM "%s" WHERE %s' % (
            ', '.join('"%s"' % name for name in columns), self._table, ' AND '.join(conditions))
        self.env.cr.execute(query, params)
        existing = {}
        for row in self.env.cr.dictfetchall():
            existing[tuple(row[name] for name in key_fields)] = row
        return existing

    def _upsert_same(self, name, stored, new):
        """Whether a stored column value equals the value we would write."""
        field = self._fields[name]
        if field.type == 'datetime':
            new = fields.Datetime.to_datetime(new) if new else None
            if isinstance(new, datetime.datetime):
                new = new.replace(microsecond=0, tzinfo=None)
            return (stored or None) == new
        if field.type == 'boolean':
            return bool(stored) == bool(new)
        if field.type in ('many2one', 'integer', 'float', 'monetary'):
            return (stored or 0) == (new or 0)
        return (stored or None) == (new or None)

    @staticmethod
    def _upsert_freeze(vals):
        return tuple(sorted(vals.items()))
