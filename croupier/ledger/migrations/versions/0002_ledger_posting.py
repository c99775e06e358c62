"""ledger: the posting engine as SQL functions (one round trip per posting)

Revision ID: 0002_ledger_posting
Revises: 0001_ledger
Create Date: 2025-01-01

Every posting is one statement: a call to one of these functions, which claims the
transfer id, checks the accounts, locks and updates the balance rows in a global order,
and writes the journal and its entries. A rejection raises an exception with a ``CLxxx``
SQLSTATE (mapped to typed errors by ``croupier.ledger.errors``), which undoes everything
the statement did.

Lock order, for every function, so that no two postings can deadlock:

1. transfer ids (``transfer_ids`` rows), in id order when there are several;
2. the hold being posted, voided or expired (``transfers`` row);
3. balance rows, in ``(account_id, shard)`` order.

Functions whose name starts with ``ledger__`` are internal helpers.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_ledger_posting"
down_revision: str | None = "0001_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPES = """
CREATE TYPE ledger_posting AS (
    id text,
    phase text,
    status text,
    debit_account_id bigint,
    credit_account_id bigint,
    amount numeric,
    currency text,
    type text,
    reference_id text,
    pending_id text,
    timeout_s integer,
    expires_at timestamptz,
    created_at timestamptz,
    replayed boolean
);

CREATE TYPE ledger_batch_item AS (
    ord integer,
    id text,
    debit_account_id bigint,
    credit_account_id bigint,
    debit_shard smallint,
    credit_shard smallint,
    amount numeric,
    currency text,
    type text,
    reference_id text,
    metadata jsonb,
    pending boolean,
    timeout_s integer
);

CREATE TYPE ledger_batch_result AS (
    ord integer,
    status text,
    expires_at timestamptz,
    created_at timestamptz,
    replayed boolean
);
"""

HELPERS = """
-- Which shard of an account a transfer touches. Transfers of the same bet share a
-- reference id and therefore a shard, so one transaction settling a bet (post the stake,
-- pay the win) locks one house row, never two in an order another bet could invert.
CREATE FUNCTION ledger__shard(p_key text, p_shards smallint) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_shards = 1 THEN 0 ELSE abs(hashtext(p_key)::bigint) % p_shards END::smallint
$$;

-- Amounts are whole positive numbers of minor units. The Python layer checks first; this
-- guards raw SQL callers, since a NUMERIC(78,0) column would silently round 1.5 to 2.
CREATE FUNCTION ledger__check_amount(p_amount numeric, p_item text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF (p_amount > 0 AND p_amount = trunc(p_amount)) IS NOT TRUE THEN
        RAISE EXCEPTION '%amount must be a positive whole number of minor units, got %',
            p_item, coalesce(p_amount::text, 'null') USING ERRCODE = 'CL041';
    END IF;
END
$$;

-- The shard of an existing account in the given currency, or a typed refusal.
CREATE FUNCTION ledger__shard_for(p_account_id bigint, p_currency text, p_shard_key text)
RETURNS smallint LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_account record;
BEGIN
    SELECT a.currency, a.shards INTO v_account FROM accounts a WHERE a.id = p_account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', p_account_id USING ERRCODE = 'CL010';
    END IF;
    IF v_account.currency <> p_currency THEN
        RAISE EXCEPTION 'account % holds %, not %', p_account_id, v_account.currency, p_currency
            USING ERRCODE = 'CL012';
    END IF;
    RETURN ledger__shard(p_shard_key, v_account.shards);
END
$$;

-- Why a balance row refused a movement: it is missing, closed, or over its limit.
CREATE FUNCTION ledger__refuse(
    p_transfer_id text, p_account_id bigint, p_shard smallint, p_side text, p_needed numeric
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_row account_balances%ROWTYPE;
    v_available numeric;
BEGIN
    SELECT * INTO v_row FROM account_balances b
    WHERE b.account_id = p_account_id AND b.shard = p_shard;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % has no balance shard %', p_account_id, p_shard
            USING ERRCODE = 'CL010';
    END IF;
    IF v_row.closed THEN
        RAISE EXCEPTION 'account % is closed', p_account_id USING ERRCODE = 'CL011';
    END IF;
    v_available := CASE p_side
        WHEN 'debit' THEN v_row.credits_posted - v_row.debits_posted - v_row.debits_pending
        ELSE v_row.debits_posted - v_row.credits_posted - v_row.credits_pending
    END;
    RAISE EXCEPTION 'insufficient funds: account % has % available, transfer % needs %',
        p_account_id, v_available, p_transfer_id, p_needed
        USING ERRCODE = 'CL001';
END
$$;

-- Apply deltas to one side of one balance row, refusing a closed row or a broken limit.
-- A debit leg changes debits_*, a credit leg credits_*; posted and pending deltas may be
-- negative when a hold is posted or voided, which can never break a limit.
CREATE FUNCTION ledger__move_leg(
    p_transfer_id text, p_account_id bigint, p_shard smallint, p_side text,
    p_posted numeric, p_pending numeric
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_side = 'debit' THEN
        UPDATE account_balances b
        SET debits_posted = b.debits_posted + p_posted,
            debits_pending = b.debits_pending + p_pending
        WHERE b.account_id = p_account_id AND b.shard = p_shard AND NOT b.closed
          AND (NOT b.debits_must_not_exceed_credits
               OR b.debits_posted + b.debits_pending + p_posted + p_pending <= b.credits_posted);
    ELSE
        UPDATE account_balances b
        SET credits_posted = b.credits_posted + p_posted,
            credits_pending = b.credits_pending + p_pending
        WHERE b.account_id = p_account_id AND b.shard = p_shard AND NOT b.closed
          AND (NOT b.credits_must_not_exceed_debits
               OR b.credits_posted + b.credits_pending + p_posted + p_pending <= b.debits_posted);
    END IF;
    IF NOT FOUND THEN
        PERFORM ledger__refuse(p_transfer_id, p_account_id, p_shard, p_side, p_posted + p_pending);
    END IF;
END
$$;

-- Both legs of a movement, the lower (account_id, shard) first.
CREATE FUNCTION ledger__move(
    p_transfer_id text,
    p_debit_account_id bigint, p_debit_shard smallint,
    p_credit_account_id bigint, p_credit_shard smallint,
    p_posted numeric, p_pending numeric
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF (p_debit_account_id, p_debit_shard) < (p_credit_account_id, p_credit_shard) THEN
        PERFORM ledger__move_leg(p_transfer_id, p_debit_account_id, p_debit_shard, 'debit',
                                 p_posted, p_pending);
        PERFORM ledger__move_leg(p_transfer_id, p_credit_account_id, p_credit_shard, 'credit',
                                 p_posted, p_pending);
    ELSE
        PERFORM ledger__move_leg(p_transfer_id, p_credit_account_id, p_credit_shard, 'credit',
                                 p_posted, p_pending);
        PERFORM ledger__move_leg(p_transfer_id, p_debit_account_id, p_debit_shard, 'debit',
                                 p_posted, p_pending);
    END IF;
END
$$;

-- The stored transfer behind an id that was already claimed: the same content is a
-- replay (nothing written, the stored transfer returned), anything else a conflict.
CREATE FUNCTION ledger__replay(p_request ledger_posting, p_metadata jsonb)
RETURNS ledger_posting LANGUAGE plpgsql AS $$
DECLARE
    t transfers%ROWTYPE;
    v_differences text[];
BEGIN
    SELECT s.* INTO t FROM transfers s
    WHERE s.id = p_request.id
      AND s.created_at = (SELECT k.created_at FROM transfer_ids k WHERE k.id = p_request.id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'transfer id % is claimed but its transfer is missing', p_request.id
            USING ERRCODE = 'XX000';
    END IF;
    v_differences := array_remove(ARRAY[
        CASE WHEN t.phase IS DISTINCT FROM p_request.phase
            THEN format('kind %s, not %s', t.phase, p_request.phase) END,
        CASE WHEN t.pending_id IS DISTINCT FROM p_request.pending_id
            THEN format('pending id %s, not %s', t.pending_id, p_request.pending_id) END,
        CASE WHEN t.debit_account_id IS DISTINCT FROM p_request.debit_account_id
            THEN format('debit account %s, not %s', t.debit_account_id,
                        p_request.debit_account_id) END,
        CASE WHEN t.credit_account_id IS DISTINCT FROM p_request.credit_account_id
            THEN format('credit account %s, not %s', t.credit_account_id,
                        p_request.credit_account_id) END,
        CASE WHEN t.amount IS DISTINCT FROM p_request.amount
            THEN format('amount %s, not %s', t.amount, p_request.amount) END,
        CASE WHEN t.currency IS DISTINCT FROM p_request.currency
            THEN format('currency %s, not %s', t.currency, p_request.currency) END,
        CASE WHEN t.type IS DISTINCT FROM p_request.type
            THEN format('type %s, not %s', t.type, p_request.type) END,
        CASE WHEN t.reference_id IS DISTINCT FROM p_request.reference_id
            THEN format('reference %s, not %s', t.reference_id, p_request.reference_id) END,
        CASE WHEN t.timeout_s IS DISTINCT FROM p_request.timeout_s
            THEN format('timeout %s s, not %s s', t.timeout_s, p_request.timeout_s) END,
        CASE WHEN t.metadata IS DISTINCT FROM p_metadata THEN 'different metadata' END
    ], NULL);
    IF cardinality(v_differences) > 0 THEN
        RAISE EXCEPTION 'transfer id % was already used with different content (stored: %)',
            p_request.id, array_to_string(v_differences, '; ')
            USING ERRCODE = 'CL020';
    END IF;
    RETURN ROW(t.id, t.phase, t.status, t.debit_account_id, t.credit_account_id, t.amount,
               t.currency, t.type, t.reference_id, t.pending_id, t.timeout_s, t.expires_at,
               t.created_at, true)::ledger_posting;
END
$$;
"""

SINGLE = """
-- A single-phase transfer (posted at once) or, with p_pending, a hold.
CREATE FUNCTION ledger_transfer(
    p_id text, p_debit_account_id bigint, p_credit_account_id bigint, p_amount numeric,
    p_currency text, p_type text, p_reference_id text, p_metadata jsonb,
    p_pending boolean, p_timeout_s integer
) RETURNS ledger_posting LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := now();
    v_shard_key text := coalesce(p_reference_id, p_id);
    v_result ledger_posting := ROW(
        p_id, CASE WHEN p_pending THEN 'hold' ELSE 'single' END,
        CASE WHEN p_pending THEN 'pending' ELSE 'posted' END,
        p_debit_account_id, p_credit_account_id, p_amount, p_currency, p_type,
        p_reference_id, NULL, p_timeout_s, v_now + make_interval(secs => p_timeout_s),
        v_now, false);
    v_debit_shard smallint;
    v_credit_shard smallint;
BEGIN
    PERFORM ledger__check_amount(p_amount, '');
    INSERT INTO transfer_ids (id, created_at) VALUES (p_id, v_now) ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN ledger__replay(v_result, p_metadata);
    END IF;
    v_debit_shard := ledger__shard_for(p_debit_account_id, p_currency, v_shard_key);
    v_credit_shard := ledger__shard_for(p_credit_account_id, p_currency, v_shard_key);
    PERFORM ledger__move(
        p_id, p_debit_account_id, v_debit_shard, p_credit_account_id, v_credit_shard,
        CASE WHEN p_pending THEN 0 ELSE p_amount END,
        CASE WHEN p_pending THEN p_amount ELSE 0 END);
    INSERT INTO transfers (
        id, phase, status, debit_account_id, credit_account_id, debit_shard, credit_shard,
        amount, currency, type, reference_id, pending_id, timeout_s, expires_at, metadata,
        created_at)
    VALUES (
        p_id, v_result.phase, v_result.status, p_debit_account_id, p_credit_account_id,
        v_debit_shard, v_credit_shard, p_amount, p_currency, p_type, p_reference_id, NULL,
        p_timeout_s, v_result.expires_at, p_metadata, v_now);
    IF NOT p_pending THEN
        INSERT INTO ledger_entries (
            transfer_id, account_id, direction, amount, currency, type, reference_id, created_at)
        VALUES
            (p_id, p_debit_account_id, 'debit', p_amount, p_currency, p_type, p_reference_id,
             v_now),
            (p_id, p_credit_account_id, 'credit', p_amount, p_currency, p_type, p_reference_id,
             v_now);
    END IF;
    RETURN v_result;
END
$$;

-- Post (all or part of) a hold, or void it. A partial post releases the remainder.
CREATE FUNCTION ledger_resolve_pending(
    p_id text, p_pending_id text, p_post boolean, p_amount numeric, p_metadata jsonb
) RETURNS ledger_posting LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := now();
    v_phase text := CASE WHEN p_post THEN 'post' ELSE 'void' END;
    v_status text := CASE WHEN p_post THEN 'posted' ELSE 'voided' END;
    h transfers%ROWTYPE;
    v_amount numeric;
BEGIN
    IF p_amount IS NOT NULL THEN
        PERFORM ledger__check_amount(p_amount, '');
    END IF;
    INSERT INTO transfer_ids (id, created_at) VALUES (p_id, v_now) ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
        SELECT s.* INTO h FROM transfers s
        WHERE s.id = p_pending_id AND s.phase = 'hold'
          AND s.created_at = (SELECT k.created_at FROM transfer_ids k WHERE k.id = p_pending_id);
        RETURN ledger__replay(
            ROW(p_id, v_phase, v_status, h.debit_account_id, h.credit_account_id,
                CASE WHEN p_post THEN coalesce(p_amount, h.amount) ELSE h.amount END,
                h.currency, h.type, h.reference_id, p_pending_id, NULL, NULL, v_now,
                false)::ledger_posting,
            p_metadata);
    END IF;

    SELECT s.* INTO h FROM transfers s
    WHERE s.id = p_pending_id
      AND s.created_at = (SELECT k.created_at FROM transfer_ids k WHERE k.id = p_pending_id)
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pending transfer % does not exist', p_pending_id USING ERRCODE = 'CL030';
    ELSIF h.phase <> 'hold' THEN
        RAISE EXCEPTION 'transfer % is not a pending transfer (it is a % transfer)',
            p_pending_id, h.phase USING ERRCODE = 'CL035';
    ELSIF h.status = 'posted' THEN
        RAISE EXCEPTION 'pending transfer % was already posted', p_pending_id
            USING ERRCODE = 'CL031';
    ELSIF h.status = 'voided' THEN
        RAISE EXCEPTION 'pending transfer % was already voided', p_pending_id
            USING ERRCODE = 'CL032';
    ELSIF h.status = 'expired' OR h.expires_at <= clock_timestamp() THEN
        RAISE EXCEPTION 'pending transfer % expired at %', p_pending_id, h.expires_at
            USING ERRCODE = 'CL033';
    END IF;

    v_amount := CASE WHEN p_post THEN coalesce(p_amount, h.amount) ELSE h.amount END;
    IF v_amount > h.amount THEN
        RAISE EXCEPTION 'cannot post % from pending transfer % which holds only %',
            v_amount, p_pending_id, h.amount USING ERRCODE = 'CL034';
    END IF;

    PERFORM ledger__move(
        p_id, h.debit_account_id, h.debit_shard, h.credit_account_id, h.credit_shard,
        CASE WHEN p_post THEN v_amount ELSE 0 END, -h.amount);
    UPDATE transfers s SET status = v_status
    WHERE s.id = h.id AND s.created_at = h.created_at;
    INSERT INTO transfers (
        id, phase, status, debit_account_id, credit_account_id, debit_shard, credit_shard,
        amount, currency, type, reference_id, pending_id, timeout_s, expires_at, metadata,
        created_at)
    VALUES (
        p_id, v_phase, v_status, h.debit_account_id, h.credit_account_id, h.debit_shard,
        h.credit_shard, v_amount, h.currency, h.type, h.reference_id, p_pending_id, NULL, NULL,
        p_metadata, v_now);
    IF p_post THEN
        INSERT INTO ledger_entries (
            transfer_id, account_id, direction, amount, currency, type, reference_id, created_at)
        VALUES
            (p_id, h.debit_account_id, 'debit', v_amount, h.currency, h.type, h.reference_id,
             v_now),
            (p_id, h.credit_account_id, 'credit', v_amount, h.currency, h.type, h.reference_id,
             v_now);
    END IF;
    RETURN ROW(p_id, v_phase, v_status, h.debit_account_id, h.credit_account_id, v_amount,
               h.currency, h.type, h.reference_id, p_pending_id, NULL, NULL, v_now,
               false)::ledger_posting;
END
$$;

-- Expire holds whose timeout passed by p_now, oldest first, at most p_limit of them.
-- Holds locked by a concurrent post or void are skipped: that posting decides them.
CREATE FUNCTION ledger_expire_pending(p_now timestamptz, p_limit integer)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    v_holds transfers[];
BEGIN
    IF p_now IS NULL OR p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'expire needs a time and a limit between 1 and 10000, got % and %',
            p_now, p_limit USING ERRCODE = 'CL040';
    END IF;
    SELECT array_agg(e.hold) INTO v_holds FROM (
        SELECT s AS hold FROM transfers s
        WHERE s.status = 'pending' AND s.expires_at <= p_now
        ORDER BY s.expires_at, s.id
        LIMIT p_limit
        FOR UPDATE OF s SKIP LOCKED
    ) e;
    IF v_holds IS NULL THEN
        RETURN;
    END IF;

    PERFORM 1 FROM account_balances b
    WHERE (b.account_id, b.shard) IN (
        SELECT h.debit_account_id, h.debit_shard FROM unnest(v_holds) h
        UNION
        SELECT h.credit_account_id, h.credit_shard FROM unnest(v_holds) h)
    ORDER BY b.account_id, b.shard
    FOR UPDATE;

    UPDATE account_balances b
    SET debits_pending = b.debits_pending - r.debits,
        credits_pending = b.credits_pending - r.credits
    FROM (
        SELECT legs.account_id, legs.shard, sum(legs.debits) AS debits,
               sum(legs.credits) AS credits
        FROM (
            SELECT h.debit_account_id AS account_id, h.debit_shard AS shard,
                   h.amount AS debits, 0 AS credits
            FROM unnest(v_holds) h
            UNION ALL
            SELECT h.credit_account_id, h.credit_shard, 0, h.amount FROM unnest(v_holds) h
        ) legs
        GROUP BY legs.account_id, legs.shard
    ) r
    WHERE b.account_id = r.account_id AND b.shard = r.shard;

    UPDATE transfers s SET status = 'expired'
    FROM unnest(v_holds) h
    WHERE s.id = h.id AND s.created_at = h.created_at;

    RETURN QUERY SELECT h.id FROM unnest(v_holds) h ORDER BY h.expires_at, h.id;
END
$$;
"""

BATCH = """
-- Many transfers and holds in one statement, all or nothing, with the same semantics as
-- calling ledger_transfer for each item in order (balance limits are checked item by
-- item, each seeing the items before it). Set-based, so the cost per item is a few
-- index insertions rather than a dozen statements.
CREATE FUNCTION ledger_transfer_batch(
    p_ids text[], p_debit_account_ids bigint[], p_credit_account_ids bigint[],
    p_amounts numeric[], p_currencies text[], p_types text[], p_reference_ids text[],
    p_metadata jsonb[], p_pending boolean[], p_timeouts_s integer[]
) RETURNS SETOF ledger_batch_result LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := now();
    v_size integer := cardinality(p_ids);
    v_items ledger_batch_item[];
    v_claimed text[];
    v_all_new boolean;
    v_replays ledger_batch_result[];
    v_conflict integer;
    v_problem record;
BEGIN
    IF v_size IS NULL OR v_size NOT BETWEEN 1 AND 8000 OR EXISTS (
        SELECT 1 FROM unnest(ARRAY[
            cardinality(p_debit_account_ids), cardinality(p_credit_account_ids),
            cardinality(p_amounts), cardinality(p_currencies), cardinality(p_types),
            cardinality(p_reference_ids), cardinality(p_metadata), cardinality(p_pending),
            cardinality(p_timeouts_s)]) AS n(size)
        WHERE n.size IS DISTINCT FROM v_size)
    THEN
        RAISE EXCEPTION 'a batch holds 1 to 8000 items in arrays of equal length'
            USING ERRCODE = 'CL040';
    END IF;

    SELECT d.id INTO v_problem FROM unnest(p_ids) AS d(id) GROUP BY d.id HAVING count(*) > 1
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'transfer id % appears more than once in the batch', v_problem.id
            USING ERRCODE = 'CL040';
    END IF;
    PERFORM ledger__check_amount(a.amount, format('item %s: ', a.ord))
    FROM unnest(p_amounts) WITH ORDINALITY AS a(amount, ord)
    WHERE (a.amount > 0 AND a.amount = trunc(a.amount)) IS NOT TRUE;

    -- Claim ids in id order, so concurrent batches wait on each other, never deadlock.
    WITH claimed AS (
        INSERT INTO transfer_ids (id, created_at)
        SELECT c.id, v_now FROM unnest(p_ids) AS c(id) ORDER BY c.id
        ON CONFLICT (id) DO NOTHING
        RETURNING transfer_ids.id
    )
    SELECT array_agg(c.id) INTO v_claimed FROM claimed c;
    v_all_new := cardinality(v_claimed) = v_size;

    -- The items to post, with the shard each touches; a shard is NULL when the account
    -- is missing or holds another currency (diagnosed by ledger__batch_post). When only
    -- some ids are new (a rare partial replay) the = ANY costs O(n*m), still bounded.
    SELECT array_agg(ROW(i.ord, i.id, i.debit_account_id, i.credit_account_id,
                         CASE WHEN d.currency = i.currency
                              THEN ledger__shard(coalesce(i.reference_id, i.id), d.shards) END,
                         CASE WHEN c.currency = i.currency
                              THEN ledger__shard(coalesce(i.reference_id, i.id), c.shards) END,
                         i.amount, i.currency, i.type, i.reference_id, i.metadata, i.pending,
                         i.timeout_s)::ledger_batch_item ORDER BY i.ord)
    INTO v_items
    FROM unnest(p_ids, p_debit_account_ids, p_credit_account_ids, p_amounts, p_currencies,
                p_types, p_reference_ids, p_metadata, p_pending, p_timeouts_s)
         WITH ORDINALITY AS i(id, debit_account_id, credit_account_id, amount, currency, type,
                              reference_id, metadata, pending, timeout_s, ord)
    LEFT JOIN accounts d ON d.id = i.debit_account_id
    LEFT JOIN accounts c ON c.id = i.credit_account_id
    WHERE v_all_new OR i.id = ANY (v_claimed);

    -- Ids used before must carry the same content (a replay) or the batch is refused.
    -- (Items claimed just now have no transfer yet, so the join skips them.)
    IF NOT coalesce(v_all_new, false) THEN
        SELECT array_agg(ROW(i.ord, t.status, t.expires_at, t.created_at,
                             true)::ledger_batch_result),
               min(i.ord) FILTER (
                   WHERE (t.phase, t.debit_account_id, t.credit_account_id, t.amount,
                          t.currency, t.type, t.reference_id, t.timeout_s, t.metadata)
                         IS DISTINCT FROM
                         (CASE WHEN i.pending THEN 'hold' ELSE 'single' END, i.debit_account_id,
                          i.credit_account_id, i.amount, i.currency, i.type, i.reference_id,
                          i.timeout_s, i.metadata))
        INTO v_replays, v_conflict
        FROM unnest(p_ids, p_debit_account_ids, p_credit_account_ids, p_amounts, p_currencies,
                    p_types, p_reference_ids, p_metadata, p_pending, p_timeouts_s)
             WITH ORDINALITY AS i(id, debit_account_id, credit_account_id, amount, currency,
                                  type, reference_id, metadata, pending, timeout_s, ord)
        JOIN transfer_ids k ON k.id = i.id
        JOIN transfers t ON t.id = k.id AND t.created_at = k.created_at;
        IF v_conflict IS NOT NULL THEN
            RAISE EXCEPTION 'item %: transfer id % was already used with different content',
                v_conflict, p_ids[v_conflict] USING ERRCODE = 'CL020';
        END IF;
    END IF;

    IF v_items IS NOT NULL THEN
        PERFORM ledger__batch_post(v_items, v_now);
    END IF;

    RETURN QUERY
    SELECT r.* FROM (
        SELECT n.ord, CASE WHEN n.pending THEN 'pending' ELSE 'posted' END,
               v_now + make_interval(secs => n.timeout_s), v_now, false
        FROM unnest(v_items) n
        UNION ALL
        SELECT * FROM unnest(v_replays)
    ) r
    ORDER BY r.ord;
END
$$;

-- The new items of a batch: refuse unknown accounts and wrong currencies (NULL shards),
-- lock balance rows in order, check limits in item order, then write transfers, entries
-- and balances in one statement each.
CREATE FUNCTION ledger__batch_post(v_items ledger_batch_item[], p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_problem record;
BEGIN
    SELECT i.ord, i.id, i.currency, d.id AS debit_found, d.currency AS debit_currency,
           c.id AS credit_found, c.currency AS credit_currency,
           i.debit_account_id, i.credit_account_id
    INTO v_problem
    FROM unnest(v_items) i
    LEFT JOIN accounts d ON d.id = i.debit_account_id
    LEFT JOIN accounts c ON c.id = i.credit_account_id
    WHERE i.debit_shard IS NULL OR i.credit_shard IS NULL
    ORDER BY i.ord
    LIMIT 1;
    IF FOUND THEN
        IF v_problem.debit_found IS NULL OR v_problem.credit_found IS NULL THEN
            RAISE EXCEPTION 'item % (transfer %): account % does not exist', v_problem.ord,
                v_problem.id,
                CASE WHEN v_problem.debit_found IS NULL THEN v_problem.debit_account_id
                     ELSE v_problem.credit_account_id END
                USING ERRCODE = 'CL010';
        END IF;
        RAISE EXCEPTION 'item % (transfer %): account % holds %, not %', v_problem.ord,
            v_problem.id,
            CASE WHEN v_problem.debit_currency <> v_problem.currency
                 THEN v_problem.debit_account_id ELSE v_problem.credit_account_id END,
            CASE WHEN v_problem.debit_currency <> v_problem.currency
                 THEN v_problem.debit_currency ELSE v_problem.credit_currency END,
            v_problem.currency
            USING ERRCODE = 'CL012';
    END IF;

    PERFORM 1 FROM account_balances b
    WHERE (b.account_id, b.shard) IN (
        SELECT i.debit_account_id, i.debit_shard FROM unnest(v_items) i
        UNION
        SELECT i.credit_account_id, i.credit_shard FROM unnest(v_items) i)
    ORDER BY b.account_id, b.shard
    FOR UPDATE;

    -- Each leg sees the running totals of the legs before it on the same balance row.
    SELECT l.ord, l.id, l.account_id, l.side, b.closed, l.amount,
           CASE l.side
               WHEN 'debit' THEN b.credits_posted + l.run_credits_posted - b.debits_posted
                    - b.debits_pending - l.run_debits_posted - l.run_debits_pending + l.amount
               ELSE b.debits_posted + l.run_debits_posted - b.credits_posted
                    - b.credits_pending - l.run_credits_posted - l.run_credits_pending + l.amount
           END AS available
    INTO v_problem
    FROM (
        SELECT legs.*,
               sum(legs.debits_posted) OVER w AS run_debits_posted,
               sum(legs.debits_pending) OVER w AS run_debits_pending,
               sum(legs.credits_posted) OVER w AS run_credits_posted,
               sum(legs.credits_pending) OVER w AS run_credits_pending
        FROM (
            SELECT i.ord, i.id, i.debit_account_id AS account_id, i.debit_shard AS shard,
                   'debit' AS side, i.amount,
                   CASE WHEN i.pending THEN 0 ELSE i.amount END AS debits_posted,
                   CASE WHEN i.pending THEN i.amount ELSE 0 END AS debits_pending,
                   0 AS credits_posted, 0 AS credits_pending
            FROM unnest(v_items) i
            UNION ALL
            SELECT i.ord, i.id, i.credit_account_id, i.credit_shard, 'credit', i.amount, 0, 0,
                   CASE WHEN i.pending THEN 0 ELSE i.amount END,
                   CASE WHEN i.pending THEN i.amount ELSE 0 END
            FROM unnest(v_items) i
        ) legs
        WINDOW w AS (PARTITION BY legs.account_id, legs.shard ORDER BY legs.ord
                     ROWS UNBOUNDED PRECEDING)
    ) l
    JOIN account_balances b ON b.account_id = l.account_id AND b.shard = l.shard
    WHERE b.closed
       OR (l.side = 'debit' AND b.debits_must_not_exceed_credits
           AND b.debits_posted + b.debits_pending + l.run_debits_posted + l.run_debits_pending
               > b.credits_posted + l.run_credits_posted)
       OR (l.side = 'credit' AND b.credits_must_not_exceed_debits
           AND b.credits_posted + b.credits_pending + l.run_credits_posted
               + l.run_credits_pending > b.debits_posted + l.run_debits_posted)
    ORDER BY l.ord
    LIMIT 1;
    IF FOUND THEN
        IF v_problem.closed THEN
            RAISE EXCEPTION 'item % (transfer %): account % is closed', v_problem.ord,
                v_problem.id, v_problem.account_id USING ERRCODE = 'CL011';
        END IF;
        RAISE EXCEPTION 'item % (transfer %): insufficient funds: account % has % available, '
            'the transfer needs %', v_problem.ord, v_problem.id, v_problem.account_id,
            v_problem.available, v_problem.amount
            USING ERRCODE = 'CL001';
    END IF;

    INSERT INTO transfers (
        id, phase, status, debit_account_id, credit_account_id, debit_shard, credit_shard,
        amount, currency, type, reference_id, pending_id, timeout_s, expires_at, metadata,
        created_at)
    SELECT i.id, CASE WHEN i.pending THEN 'hold' ELSE 'single' END,
           CASE WHEN i.pending THEN 'pending' ELSE 'posted' END,
           i.debit_account_id, i.credit_account_id, i.debit_shard, i.credit_shard, i.amount,
           i.currency, i.type, i.reference_id, NULL, i.timeout_s,
           p_now + make_interval(secs => i.timeout_s), i.metadata, p_now
    FROM unnest(v_items) i;

    INSERT INTO ledger_entries (
        transfer_id, account_id, direction, amount, currency, type, reference_id, created_at)
    SELECT i.id,
           CASE s.direction WHEN 'debit' THEN i.debit_account_id ELSE i.credit_account_id END,
           s.direction, i.amount, i.currency, i.type, i.reference_id, p_now
    FROM unnest(v_items) i
    CROSS JOIN (VALUES (1, 'debit'), (2, 'credit')) AS s(position, direction)
    WHERE NOT i.pending
    ORDER BY i.ord, s.position;

    UPDATE account_balances b
    SET debits_posted = b.debits_posted + r.debits_posted,
        debits_pending = b.debits_pending + r.debits_pending,
        credits_posted = b.credits_posted + r.credits_posted,
        credits_pending = b.credits_pending + r.credits_pending
    FROM (
        SELECT legs.account_id, legs.shard,
               sum(legs.debits_posted) AS debits_posted,
               sum(legs.debits_pending) AS debits_pending,
               sum(legs.credits_posted) AS credits_posted,
               sum(legs.credits_pending) AS credits_pending
        FROM (
            SELECT i.debit_account_id AS account_id, i.debit_shard AS shard,
                   CASE WHEN i.pending THEN 0 ELSE i.amount END AS debits_posted,
                   CASE WHEN i.pending THEN i.amount ELSE 0 END AS debits_pending,
                   0 AS credits_posted, 0 AS credits_pending
            FROM unnest(v_items) i
            UNION ALL
            SELECT i.credit_account_id, i.credit_shard, 0, 0,
                   CASE WHEN i.pending THEN 0 ELSE i.amount END,
                   CASE WHEN i.pending THEN i.amount ELSE 0 END
            FROM unnest(v_items) i
        ) legs
        GROUP BY legs.account_id, legs.shard
    ) r
    WHERE b.account_id = r.account_id AND b.shard = r.shard;
END
$$;
"""


def upgrade() -> None:
    op.execute(TYPES)
    op.execute(HELPERS)
    op.execute(SINGLE)
    op.execute(BATCH)


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION ledger__batch_post(ledger_batch_item[], timestamptz);
        DROP FUNCTION ledger_transfer_batch(
            text[], bigint[], bigint[], numeric[], text[], text[], text[], jsonb[], boolean[],
            integer[]);
        DROP FUNCTION ledger_expire_pending(timestamptz, integer);
        DROP FUNCTION ledger_resolve_pending(text, text, boolean, numeric, jsonb);
        DROP FUNCTION ledger_transfer(
            text, bigint, bigint, numeric, text, text, text, jsonb, boolean, integer);
        DROP FUNCTION ledger__replay(ledger_posting, jsonb);
        DROP FUNCTION ledger__move(text, bigint, smallint, bigint, smallint, numeric, numeric);
        DROP FUNCTION ledger__move_leg(text, bigint, smallint, text, numeric, numeric);
        DROP FUNCTION ledger__refuse(text, bigint, smallint, text, numeric);
        DROP FUNCTION ledger__shard_for(bigint, text, text);
        DROP FUNCTION ledger__check_amount(numeric, text);
        DROP FUNCTION ledger__shard(text, smallint);
        DROP TYPE ledger_batch_result;
        DROP TYPE ledger_batch_item;
        DROP TYPE ledger_posting;
        """
    )
