-- The 中間サーバー's schema (ADR 0026). Every table holding a city's data has a `tenant` column and a
-- row-level security policy: a tenant's login role (im_t_<code>) sees and writes its own rows only,
-- whatever SQL it runs. The tables belong to im_owner; no tenant role owns anything, none may SET ROLE
-- to another (they are not members of each other), and RLS is enabled, so only the owner's one
-- aggregate function (platform_status, for the operator) reads across tenants, and only counts.
-- Idempotent: `juki intermediary init` runs it at every start.

CREATE TABLE IF NOT EXISTS tenant (
    code        text PRIMARY KEY,            -- 地方公共団体コード (6 digits)
    name        text NOT NULL,
    role        text NOT NULL UNIQUE,        -- its database login role
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The tenant of the session: the tenant whose role is logged in. Not a setting a query could change.
CREATE OR REPLACE FUNCTION im_tenant() RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT code FROM tenant WHERE role = current_user $$;

-- 副本 (情報提供データベース): 住民票関係情報 per 統一識別番号, as the city's register last sent it.
CREATE TABLE IF NOT EXISTS replica (
    tenant          text NOT NULL REFERENCES tenant,
    unified_number  text NOT NULL,           -- 統一識別番号 (団体内統合宛名)
    status          text NOT NULL,           -- resident / removed
    is_head         boolean NOT NULL,        -- 世帯主である旨
    head_name       text NOT NULL DEFAULT '',-- 世帯主の氏名 (not for a head)
    relationship    text NOT NULL DEFAULT '',-- 世帯主との続柄 (not for a head)
    no_auto         boolean NOT NULL DEFAULT false,  -- 自動応答不可フラグ (支援措置)
    position        bigint NOT NULL,         -- the register's outbox position it reflects
    load_id         text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, unified_number)
);

-- 符号 ↔ 統一識別番号 (P5): only here, never in the register.
CREATE TABLE IF NOT EXISTS fugo (
    tenant          text NOT NULL REFERENCES tenant,
    unified_number  text NOT NULL,
    fugo            text NOT NULL,
    acquired_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, unified_number),
    UNIQUE (tenant, fugo)
);

-- Inquiries as they stand (answered, refused, held for review, released, declined).
CREATE TABLE IF NOT EXISTS inquiry (
    tenant          text NOT NULL REFERENCES tenant,
    id              bigserial,
    message_id      text NOT NULL,           -- the network's id: a repeat gets the first outcome
    received_at     timestamptz NOT NULL DEFAULT now(),
    requester       text NOT NULL,           -- 情報照会者 (the network's id of the body)
    requester_kind  text NOT NULL,
    provision       integer NOT NULL,        -- 別表第二の項番
    affair          text NOT NULL,           -- 事務 code
    items           text[] NOT NULL,
    fugo            text NOT NULL,
    unified_number  text,                    -- when the 符号 was found
    state           text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    public_key      text NOT NULL,           -- the requester's key the answer is sealed to
    answer          text,                    -- the sealed answer (never the clear one)
    decided_by      text NOT NULL DEFAULT '',-- the city's staff member who reviewed it
    decided_at      timestamptz,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, message_id)
);
CREATE INDEX IF NOT EXISTS inquiry_state ON inquiry (tenant, state, id);
-- What the message asked (requester, provision, 事務, items, 符号): a message id used again for
-- another question is refused, not answered with the first one's outcome.
ALTER TABLE inquiry ADD COLUMN IF NOT EXISTS digest text NOT NULL DEFAULT '';

-- 情報提供等記録: append-only; every inquiry, answer, refusal, hold and review, kept 7 years.
CREATE TABLE IF NOT EXISTS record (
    tenant          text NOT NULL REFERENCES tenant,
    id              bigserial,
    inquiry_id      bigint NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    event           text NOT NULL,           -- inquiry / answer / refusal / hold / release / decline
    requester       text NOT NULL,
    provision       integer NOT NULL,
    affair          text NOT NULL,
    items           text[] NOT NULL,
    unified_number  text,
    reason          text NOT NULL DEFAULT '',
    staff           text NOT NULL DEFAULT '',
    keep_until      date NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS record_person ON record (tenant, unified_number, id);

-- The feed's batches (counts and positions only: what the operator may see).
CREATE TABLE IF NOT EXISTS feed_batch (
    tenant      text NOT NULL REFERENCES tenant,
    id          bigserial,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL,               -- changes / full / reconcile
    count       integer NOT NULL,
    position    bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['replica', 'fugo', 'inquiry', 'record', 'feed_batch'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = t AND policyname = 'tenant_rows') THEN
            EXECUTE format('CREATE POLICY tenant_rows ON %I USING (tenant = im_tenant()) '
                           'WITH CHECK (tenant = im_tenant())', t);
        END IF;
    END LOOP;
    ALTER TABLE tenant ENABLE ROW LEVEL SECURITY;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'tenant' AND policyname = 'own_row') THEN
        CREATE POLICY own_row ON tenant USING (role = current_user);
    END IF;
END $$;

-- What the platform's operator sees: per tenant, counts and times, no person.
CREATE OR REPLACE FUNCTION platform_status()
RETURNS TABLE (tenant text, name text, replica bigint, no_auto bigint, fugo bigint, held bigint,
               inquiries_24h bigint, refused_24h bigint, last_feed timestamptz, last_full timestamptz,
               feed_position bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT t.code, t.name,
           (SELECT count(*) FROM replica r WHERE r.tenant = t.code),
           (SELECT count(*) FROM replica r WHERE r.tenant = t.code AND r.no_auto),
           (SELECT count(*) FROM fugo f WHERE f.tenant = t.code),
           (SELECT count(*) FROM inquiry i WHERE i.tenant = t.code AND i.state = 'held'),
           (SELECT count(*) FROM inquiry i WHERE i.tenant = t.code AND i.received_at > now() - interval '24 hours'),
           (SELECT count(*) FROM inquiry i WHERE i.tenant = t.code AND i.state = 'refused'
                                             AND i.received_at > now() - interval '24 hours'),
           (SELECT max(b.at) FROM feed_batch b WHERE b.tenant = t.code),
           (SELECT max(b.at) FROM feed_batch b WHERE b.tenant = t.code AND b.kind = 'full'),
           (SELECT max(b.position) FROM feed_batch b WHERE b.tenant = t.code)
    FROM tenant t ORDER BY t.code
$$;

-- What the 7-year purge removed (issue 18): counts per tenant, no person; the owner's table only.
CREATE TABLE IF NOT EXISTS record_purge (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    tenant      text NOT NULL REFERENCES tenant,
    before      date NOT NULL,
    records     integer NOT NULL,
    inquiries   integer NOT NULL
);
