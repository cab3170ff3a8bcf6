"""The claim as one PostgreSQL function (``microtasks_claim``), called by
``services.scheduling`` in one round trip; other databases keep the Python path.

Written out here, not generated: the functions name the tables of this migration's state.
A later migration that renames a column they read must replace them.
"""

from django.db import migrations

# An open item of the kind asked for that the worker never leased, with room for one more
# lease (answers plus live leases below the target), in the batch's order, locked without
# waiting (``SKIP LOCKED``). One branch per kind and order, so each branch's plan uses the
# partial index made for it.
_CANDIDATES = """
        SELECT i.id FROM microtasks_item i
        WHERE i.batch_id = p_batch AND i.status = 'open' AND i.is_gold = {gold}
          AND NOT (i.id = ANY(p_exclude))
          AND NOT EXISTS (
              SELECT 1 FROM microtasks_lease s WHERE s.item_id = i.id AND s.worker_id = p_worker
          )
          AND i.answers_count + (
              SELECT count(*) FROM microtasks_lease l
              WHERE l.item_id = i.id AND l.status = 'active' AND l.expires_at > p_now
          ) < i.answers_target
        ORDER BY i.answers_count {direction}, i.id
        LIMIT p_limit
        FOR NO KEY UPDATE OF i SKIP LOCKED"""


def _branch(gold: bool, breadth: bool) -> str:
    return _CANDIDATES.format(
        gold="TRUE" if gold else "FALSE", direction="ASC" if breadth else "DESC"
    )


PICK = f"""
CREATE OR REPLACE FUNCTION microtasks_claim_pick(
    p_batch bigint, p_worker bigint, p_now timestamptz, p_gold boolean, p_breadth boolean,
    p_limit integer, p_exclude bigint[]
) RETURNS SETOF bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF p_gold AND p_breadth THEN
        RETURN QUERY {_branch(True, True)};
    ELSIF p_gold THEN
        RETURN QUERY {_branch(True, False)};
    ELSIF p_breadth THEN
        RETURN QUERY {_branch(False, True)};
    ELSE
        RETURN QUERY {_branch(False, False)};
    END IF;
END
$$;
"""

# Up to ``p_room`` leases in slots 0… for the worker: ``p_gold`` of the page's items asked
# from the test questions (the caller draws them at the batch's gold rate), the rest from
# the other items, each kind topped up from the other when it runs short; then one guarded
# INSERT that counts again (a statement of its own, so with a snapshot taken after the
# pick's locks: it sees a lease another claim committed in between) and skips items found
# full or already leased by this worker; retried up to five times for the slots left.
# Each statement of a VOLATILE function takes a fresh snapshot (READ COMMITTED), which is
# what makes the second count correct; picking and inserting in one statement is not.
CLAIM = """
CREATE OR REPLACE FUNCTION microtasks_claim(
    p_batch bigint, p_worker bigint, p_now timestamptz, p_expires timestamptz,
    p_room integer, p_gold integer, p_breadth boolean
) RETURNS TABLE (claimed_lease bigint, claimed_item bigint, claimed_slot integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_slots integer[] := ARRAY(SELECT generate_series(0, p_room - 1));
    v_rejected bigint[] := '{}';
    v_picked bigint[];
    v_taken bigint[];
    v_used integer[];
    v_gold integer;
    v_gold_left boolean;
    v_row record;
BEGIN
    FOR v_attempt IN 1..5 LOOP
        v_gold := least(p_gold, cardinality(v_slots));
        v_picked := '{}';
        IF v_gold > 0 THEN
            v_picked := ARRAY(SELECT microtasks_claim_pick(
                p_batch, p_worker, p_now, TRUE, p_breadth, v_gold, v_rejected));
        END IF;
        v_gold_left := cardinality(v_picked) = v_gold;
        IF cardinality(v_picked) < cardinality(v_slots) THEN
            v_picked := v_picked || ARRAY(SELECT microtasks_claim_pick(
                p_batch, p_worker, p_now, FALSE, p_breadth,
                cardinality(v_slots) - cardinality(v_picked), v_rejected || v_picked));
        END IF;
        IF v_gold_left AND cardinality(v_picked) < cardinality(v_slots) THEN
            v_picked := v_picked || ARRAY(SELECT microtasks_claim_pick(
                p_batch, p_worker, p_now, TRUE, p_breadth,
                cardinality(v_slots) - cardinality(v_picked), v_rejected || v_picked));
        END IF;
        EXIT WHEN cardinality(v_picked) = 0;
        v_taken := '{}';
        v_used := '{}';
        FOR v_row IN
            INSERT INTO microtasks_lease
                (batch_id, item_id, worker_id, status, created_at, expires_at, slot)
            SELECT p_batch, i.id, p_worker, 'active', p_now, p_expires, p.slot
            FROM unnest(v_picked, v_slots[1:cardinality(v_picked)]) AS p(item_id, slot)
            JOIN microtasks_item i ON i.id = p.item_id
            WHERE i.status = 'open'
              AND NOT EXISTS (
                  SELECT 1 FROM microtasks_lease s
                  WHERE s.item_id = i.id AND s.worker_id = p_worker
              )
              AND i.answers_count + (
                  SELECT count(*) FROM microtasks_lease l
                  WHERE l.item_id = i.id AND l.status = 'active' AND l.expires_at > p_now
              ) < i.answers_target
            RETURNING id, item_id, slot
        LOOP
            claimed_lease := v_row.id;
            claimed_item := v_row.item_id;
            claimed_slot := v_row.slot;
            RETURN NEXT;
            v_taken := v_taken || v_row.item_id;
            v_used := v_used || v_row.slot::integer;
        END LOOP;
        v_rejected := v_rejected || ARRAY(
            SELECT p FROM unnest(v_picked) AS p WHERE NOT p = ANY(v_taken));
        v_slots := ARRAY(SELECT s FROM unnest(v_slots) AS s WHERE NOT s = ANY(v_used));
        EXIT WHEN cardinality(v_slots) = 0;
    END LOOP;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS microtasks_claim(
    bigint, bigint, timestamptz, timestamptz, integer, integer, boolean);
DROP FUNCTION IF EXISTS microtasks_claim_pick(
    bigint, bigint, timestamptz, boolean, boolean, integer, bigint[]);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PICK)
        schema_editor.execute(CLAIM)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("microtasks", "0010_item_batch_no_single_index"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
