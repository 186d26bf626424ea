-- What a Citus cluster needs beyond `scimd migrate` (deploy/k8s/README.md,
-- "Past one primary: Citus"). Run once, on the coordinator, as the owner
-- from DATABASE_URL, after the migrations and before the services start;
-- migrations later run on the coordinator as before (Citus propagates their
-- DDL to the shards). tests/services/test_distribution_keys.py checks that
-- this file names every tenant table and every reference table.

CREATE EXTENSION IF NOT EXISTS citus;

-- Project-level tables: the same rows for every organization, copied to every
-- node, so that tenant tables may join them and refer to them.
SELECT create_reference_table('connections.organizations');
SELECT create_reference_table('connections.connections');
SELECT create_reference_table('connections.bearer_tokens');
SELECT create_reference_table('connections.oauth_client_secrets');
SELECT create_reference_table('connections.access_tokens');
SELECT create_reference_table('connections.assertion_trusts');
SELECT create_reference_table('connections.portal_links');
SELECT create_reference_table('connections.used_assertions');
SELECT create_reference_table('directory.schema_extensions');
SELECT create_reference_table('directory.custom_fields');
SELECT create_reference_table('rbac.roles');
SELECT create_reference_table('rbac.signing_keys');

-- Tenant tables: sharded by organization, all in one colocation group, so an
-- organization's members, groups, memberships, roles and sessions share a
-- shard and every join and foreign key between them stays on one node.
-- Referenced tables first. On an install with data, each call copies the
-- table's rows into its shards, blocking writes to it meanwhile (Citus 11.2+
-- has create_distributed_table_concurrently for large tables).
SELECT create_distributed_table('directory.members', 'organization_id', colocate_with => 'none');
SELECT create_distributed_table('directory.groups', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('directory.group_members', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('directory.audit_log', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('directory.deprovisions', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('directory.deprovision_guards', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('directory.request_log', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('directory.seen_attributes', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('directory.attribute_mappings', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('rbac.group_role_assignments', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('rbac.direct_role_assignments', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('rbac.member_roles', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('rbac.attribute_role_assignments', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('rbac.rule_role_assignments', 'organization_id', colocate_with => 'directory.members');
SELECT create_distributed_table('rbac.sessions', 'organization_id', colocate_with => 'directory.members');

-- Everything else stays a plain table on the coordinator: each service's
-- outbox and schema_migrations, and the webhooks schema (the event log and
-- the delivery queue), which are read across organizations in one order
-- under row locks.
