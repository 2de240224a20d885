"""Which example rows are shown: those not written by a staged insert that is still pending (see
store.staged_inserts). Every read of a dataset's examples adds this test to its WHERE clause.

Plain SQL without imports: example_reader, which export worker processes load, uses it too. The
(dataset_id, id, insert_id) index holds the column it tests, so counting and paging read no rows.
"""

VISIBLE_SQL = "(insert_id IS NULL OR insert_id NOT IN (SELECT id FROM pending_insert))"
