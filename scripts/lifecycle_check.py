"""The addon's life cycle on one database, phase by phase (scripts/check_lifecycle.sh).

    snapshot     on the previous release with its demo data: a manager's day (a stage
                 renamed, its ideal days changed, a new customer moved down a layer),
                 then a record of every lead, partner and stage and of the history
    upgraded     after ``-u sales_funnel_method`` with the current code: nothing lost
                 or changed
    uninstall    a manager renames an abandon reason and abandons a customer for
                 it, then uninstalls the addon as the Apps menu does
    uninstalled  plain CRM: every lead, partner and stage left, and usable
    reinstalled  after ``-i sales_funnel_method``: the same stages are the layers again

Each phase compares the database with the snapshot (a JSON file), prints one line,
and exits 1 with the list of failures.

    python scripts/lifecycle_check.py -c CONF -d DB [--addons-path PATH] --phase PHASE --state FILE
"""

import argparse
import ast
import json
import sys
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

MODULE = "sales_funnel_method"
KEPT_MODULE = "__sales_funnel_method_kept__"
MANIFEST = Path(__file__).resolve().parent.parent / MODULE / "__manifest__.py"

# what is compared, where the columns exist (a plain CRM has no funnel column)
LEAD_COLUMNS = (
    "name",
    "type",
    "active",
    "stage_id",
    "user_id",
    "team_id",
    "partner_id",
    "probability",
    "funnel_layer",
    "funnel_grade",
    "funnel_layer_date",
    "date_last_stage_update",
    "create_date",
)
STAGE_COLUMNS = (
    "name",
    "sequence",
    "fold",
    "is_won",
    "team_id",
    "funnel_layer",
    "funnel_ideal_days",
)
PARTNER_COLUMNS = ("name", "active", "email", "parent_id")
HISTORY_TABLES = {
    "crm_funnel_move": ("lead_id", "date", "from_layer", "to_layer", "to_stage_id"),
    "crm_funnel_assignment": ("lead_id", "user_id", "kind", "date"),
    "crm_funnel_contact": ("lead_id", "user_id", "kind", "date"),
}
# the manager's edit made on the previous release (snapshot phase)
EDITED_STAGE = f"{MODULE}.crm_stage_lead"
EDITED_NAME = "Qualified Lead (lifecycle check)"
EDITED_IDEAL_DAYS = 9
EDITED_SEQUENCE = 42
EDITED_FOLD = True
CHECK_LEAD_NAME = "Lifecycle check: walk-in customer"
# the manager's edit made on the current code before the uninstall: an abandon
# reason renamed, a customer abandoned for it
EDITED_REASON = f"{MODULE}.crm_lost_reason_refused"
EDITED_REASON_NAME = "Refused on the phone (lifecycle check)"
ABANDONED_LEAD_NAME = "Lifecycle check: abandoned customer"


def jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


# ------------------------------------------------------------
# READING THE DATABASE (SQL: the same on every version)
# ------------------------------------------------------------


def table_exists(cr, table):
    cr.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
    return cr.fetchone()[0]


def columns_of(cr, table, wanted):
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
        [table],
    )
    present = {row[0] for row in cr.fetchall()}
    return [column for column in wanted if column in present]


def rows(cr, table, wanted):
    """{str(id): {column: value}} of every row of ``table`` (archived ones too)."""
    columns = columns_of(cr, table, wanted)
    cr.execute(f'SELECT id, {", ".join(columns)} FROM "{table}" ORDER BY id')
    return {
        str(row[0]): {
            column: jsonable(value)
            for column, value in zip(columns, row[1:], strict=True)
        }
        for row in cr.fetchall()
    }


def history(cr):
    """{table: [row count, digest of the rows]}; None for a table that is gone."""
    result = {}
    for table, columns in HISTORY_TABLES.items():
        if not table_exists(cr, table):
            result[table] = None
            continue
        cr.execute(
            f"""SELECT COUNT(*), md5(string_agg(concat_ws('|', id, {", ".join(columns)}), ','
                                         ORDER BY id))
                  FROM {table}"""
        )
        result[table] = list(cr.fetchone())
    return result


def xmlids(cr, module):
    """{model: {str(res_id): name}} of the xml ids of ``module``."""
    cr.execute(
        "SELECT model, res_id, name FROM ir_model_data WHERE module = %s", [module]
    )
    result = {}
    for model, res_id, name in cr.fetchall():
        result.setdefault(model, {})[str(res_id)] = name
    return result


def module_row(cr):
    cr.execute(
        "SELECT state, latest_version FROM ir_module_module WHERE name = %s", [MODULE]
    )
    return cr.fetchone() or (None, None)


def manifest_version():
    version = ast.literal_eval(MANIFEST.read_text())["version"]
    return version if version.startswith("18.0.") else f"18.0.{version}"


def read_state(cr):
    return {
        "module": list(module_row(cr)),
        "leads": rows(cr, "crm_lead", LEAD_COLUMNS),
        "partners": rows(cr, "res_partner", PARTNER_COLUMNS),
        "stages": rows(cr, "crm_stage", STAGE_COLUMNS),
        "users": rows(cr, "res_users", ("login",)),
        "teams": rows(cr, "crm_team", ("active",)),
        "history": history(cr),
        "xmlids": xmlids(cr, MODULE),
        "kept_xmlids": xmlids(cr, KEPT_MODULE),
    }


# ------------------------------------------------------------
# CHECKS
# ------------------------------------------------------------


class Checks:
    def __init__(self, phase):
        self.phase = phase
        self.passed = 0
        self.failures = []
        self.notes = []

    def check(self, ok, message):
        if ok:
            self.passed += 1
        else:
            self.failures.append(message)
        return ok

    def equal(self, got, want, what):
        return self.check(got == want, f"{what}: expected {want!r}, got {got!r}")

    def same_ids(self, got, want, what):
        got, want = set(got), set(want)
        return self.check(
            got == want,
            f"{what}: missing {sorted(want - got, key=int)[:10]}, "
            f"unexpected {sorted(got - want, key=int)[:10]}",
        )

    def same_values(self, got, want, what, columns=None):
        """Each record of ``want`` has the same values in ``got`` (for ``columns``, or
        for the columns both sides have)."""
        wrong = []
        for key, values in want.items():
            new = got.get(key)
            if new is None:
                continue
            keys = columns or (set(values) & set(new))
            diff = {
                column: (values.get(column), new.get(column))
                for column in keys
                if values.get(column) != new.get(column)
            }
            if diff:
                wrong.append(f"#{key} {diff}")
        return self.check(
            not wrong, f"{what} changed ({len(wrong)}): {'; '.join(wrong[:5])}"
        )

    def report(self):
        for note in self.notes:
            print(f"  {self.phase}: {note}")
        if self.failures:
            for failure in self.failures:
                print(f"FAIL [{self.phase}] {failure}", file=sys.stderr)
            print(
                f"{self.phase}: {len(self.failures)} check(s) FAILED", file=sys.stderr
            )
            return 1
        print(f"{self.phase}: {self.passed} checks passed")
        return 0


def layer_stage_ids(snapshot):
    return {
        stage_id
        for stage_id, stage in snapshot["stages"].items()
        if stage.get("funnel_layer")
    }


def check_version(checks, cr):
    state, version = module_row(cr)
    checks.equal(state, "installed", "module state")
    checks.equal(version, manifest_version(), "installed version")


# ------------------------------------------------------------
# PHASES
# ------------------------------------------------------------


def phase_snapshot(env, args):
    """A manager's day on the previous release, then the snapshot."""
    checks = Checks("snapshot")
    cr = env.cr
    state, version = module_row(cr)
    checks.equal(state, "installed", "module state")
    stage = env.ref(EDITED_STAGE)
    deck = {
        "stage_id": str(stage.id),
        "name": stage.name,
        "ideal_days": stage.funnel_ideal_days,
    }
    stage.write(
        {
            "name": EDITED_NAME,
            "funnel_ideal_days": EDITED_IDEAL_DAYS,
            "sequence": EDITED_SEQUENCE,
            "fold": EDITED_FOLD,
        }
    )
    partner = env["res.partner"].create(
        {"name": "Lifecycle Check Trading Ltd", "email": "buyer@lifecycle.example.com"}
    )
    lead = env["crm.lead"].create(
        {
            "name": CHECK_LEAD_NAME,
            "type": "opportunity",
            "partner_id": partner.id,
            "user_id": env.ref("base.user_admin").id,
            "stage_id": env.ref(f"{MODULE}.crm_stage_resource").id,
            "funnel_grade": "a",
        }
    )
    # Odoo tracks a stage change at commit, against the stage at the transaction's
    # start: the lead is created in one transaction, moved in the next
    cr.commit()
    lead.write({"stage_id": env.ref(f"{MODULE}.crm_stage_contacted").id})
    cr.commit()
    snapshot = read_state(cr)
    snapshot.update(deck=deck, check_lead=str(lead.id), base_version=version)
    checks.check(
        snapshot["history"]["crm_funnel_move"][0] > 0, "the demo has a move history"
    )
    checks.check(
        any(not lead["active"] for lead in snapshot["leads"].values()),
        "the demo has archived leads",
    )
    Path(args.state).write_text(json.dumps(snapshot, indent=1, sort_keys=True))
    leads = snapshot["leads"].values()
    checks.notes.append(
        f"{version}: {len(leads)} leads ({sum(not lead['active'] for lead in leads)} archived), "
        f"{len(snapshot['partners'])} partners, {len(layer_stage_ids(snapshot))} layer stages "
        f"of {len(snapshot['stages'])}, "
        + ", ".join(
            f"{count[0]} {table[len('crm_funnel_') :]}s"
            for table, count in snapshot["history"].items()
        )
    )
    return checks


def phase_upgraded(env, args):
    """-u with the current code: nothing lost, nothing changed."""
    checks = Checks("upgraded")
    snapshot = json.loads(Path(args.state).read_text())
    state = read_state(env.cr)
    check_version(checks, env.cr)
    for kind in ("leads", "partners", "stages", "users", "teams"):
        checks.same_ids(state[kind], snapshot[kind], kind)
        checks.same_values(state[kind], snapshot[kind], kind)
    for table, digest in snapshot["history"].items():
        checks.equal(state["history"][table], digest, f"{table} (rows, digest)")
    stage = env.ref(EDITED_STAGE)
    checks.equal(
        (stage.name, stage.funnel_ideal_days, stage.sequence, stage.fold),
        (EDITED_NAME, EDITED_IDEAL_DAYS, EDITED_SEQUENCE, EDITED_FOLD),
        "the manager's edit of a layer stage",
    )
    check_paths_stored(checks, env)
    check_curve_days_stored(checks, env)
    return checks


def check_curve_days_stored(checks, env):
    """Every contact's stored days and weeks of the contact time curve are what
    its dates say: filled in SQL by the upgrade from a version without them."""
    from odoo.addons.sales_funnel_method.models.crm_funnel_contact import (
        CURVE_COLUMNS,
        curve_sql,
    )

    env.cr.execute(
        SQL(
            """SELECT COUNT(*), COUNT(*) FILTER (WHERE %s)
                 FROM crm_funnel_contact contact""",
            SQL(" OR ").join(
                SQL(
                    "contact.%s IS DISTINCT FROM %s",
                    SQL.identifier(name),
                    SQL(curve_sql(name)),
                )
                for name in CURVE_COLUMNS
            ),
        )
    )
    total, wrong = env.cr.fetchone()
    checks.check(
        total and not wrong,
        f"{wrong} of {total} contacts' stored curve days differ from their dates",
    )


def check_paths_stored(checks, env):
    """Every move's stored path facts (reached, moved_on_date, latest) are what
    the customer's whole history says: filled by the upgrade for a history
    written before they were stored, and by the back-fill on a reinstall."""
    Move = env["crm.funnel.move"]
    env.cr.execute(
        SQL(
            """SELECT COUNT(*),
                      COUNT(*) FILTER (WHERE move.reached IS DISTINCT FROM COALESCE(%s, FALSE)
                                          OR move.moved_on_date IS DISTINCT FROM moved_on.date
                                          OR move.latest IS DISTINCT FROM %s),
                      COUNT(*) FILTER (WHERE move.reached),
                      COUNT(*) FILTER (WHERE move.latest)
                 FROM crm_funnel_move move %s""",
            Move._funnel_reached_live_sql("move"),
            Move._funnel_latest_live_sql("move"),
            Move._funnel_moved_on_live_join_sql("move", "moved_on"),
        )
    )
    total, wrong, reached, latest = env.cr.fetchone()
    checks.check(
        total and reached and latest and not wrong,
        f"{wrong} of {total} moves' stored path facts differ from their history",
    )


def phase_uninstall(env, args):
    """A manager renames an abandon reason and abandons a customer for it, then
    uninstalls the addon as the Apps menu does."""
    checks = Checks("uninstall")
    module = env["ir.module.module"].search([("name", "=", MODULE)])
    checks.equal(module.state, "installed", "module state before")
    snapshot = json.loads(Path(args.state).read_text())
    reason = env.ref(EDITED_REASON)
    reason.name = EDITED_REASON_NAME
    lead = env["crm.lead"].create(
        {
            "name": ABANDONED_LEAD_NAME,
            "type": "opportunity",
            "user_id": env.ref("base.user_admin").id,
            "stage_id": env.ref(f"{MODULE}.crm_stage_graded").id,
            "funnel_grade": "c",
        }
    )
    lead.action_set_lost(lost_reason_id=reason.id)
    env.flush_all()
    checks.equal(
        (lead.active, lead.lost_reason_id, lead.funnel_layer),
        (False, reason, "abandoned"),
        "a customer abandoned for a funnel reason",
    )
    lead_id = str(lead.id)
    snapshot["leads"][lead_id] = rows(env.cr, "crm_lead", LEAD_COLUMNS)[lead_id]
    snapshot["abandoned"] = {"lead": lead_id, "reason": str(reason.id)}
    env.cr.commit()
    Path(args.state).write_text(json.dumps(snapshot, indent=1, sort_keys=True))
    module.button_immediate_uninstall()
    return checks


def check_abandon_reason_kept(checks, env, snapshot, funnel):
    """The customer abandoned before the uninstall keeps its reason, with the
    manager's name for it; the reason's xml id is set aside at uninstall and the
    addon's again after the reinstall (``funnel``), a funnel reason again."""
    abandoned = snapshot["abandoned"]
    env.cr.execute(
        "SELECT lost_reason_id, active FROM crm_lead WHERE id = %s",
        [int(abandoned["lead"])],
    )
    checks.equal(
        env.cr.fetchone(),
        (int(abandoned["reason"]), False),
        "the abandoned customer keeps its abandon reason",
    )
    reason = (
        env["crm.lost.reason"]
        .with_context(lang="en_US")
        .browse(int(abandoned["reason"]))
    )
    checks.equal(
        reason.exists() and reason.name,
        EDITED_REASON_NAME,
        "the abandon reason is kept with the manager's name",
    )
    env.cr.execute(
        "SELECT module FROM ir_model_data WHERE model = 'crm.lost.reason' AND res_id = %s",
        [reason.id],
    )
    checks.equal(
        [row[0] for row in env.cr.fetchall()],
        [MODULE if funnel else KEPT_MODULE],
        "the abandon reason's xml id",
    )
    if funnel:
        checks.check(reason.funnel_reason, "the kept reason is a funnel reason again")


def uninstall_expectations(snapshot, state):
    """What Odoo removes at uninstall: the records of the addon's xml ids, except the
    layers' stages (uninstall_hook keeps them). Returns (removed, expected leads,
    expected partners)."""
    removed = {
        model: set(records)
        for model, records in snapshot["xmlids"].items()
        if model != "crm.stage"
    }
    leads = set(snapshot["leads"]) - removed.get("crm.lead", set())
    # a removed demo user leaves its partner behind (Odoo archives nothing else)
    partners = set(snapshot["partners"]) - removed.get("res.partner", set())
    return removed, leads, partners


def check_plain_crm_data(checks, cr, snapshot, state):
    removed, leads, partners = uninstall_expectations(snapshot, state)
    checks.same_ids(state["leads"], leads, "leads left in plain CRM")
    checks.check(
        not removed.get("crm.lead", set()) & set(state["leads"]),
        "the addon's demo leads (its xml ids) are removed",
    )
    checks.same_ids(state["partners"], partners, "partners left in plain CRM")
    checks.same_ids(state["stages"], snapshot["stages"], "stages left in plain CRM")
    checks.same_values(
        state["stages"], snapshot["stages"], "stages", ("name", "sequence", "is_won")
    )
    checks.same_values(
        state["leads"],
        snapshot["leads"],
        "leads",
        ("name", "type", "active", "stage_id", "partner_id", "probability"),
    )
    # a lead keeps its salesperson and team unless they were the addon's demo records
    users, teams = set(state["users"]), set(state["teams"])
    wrong = [
        lead_id
        for lead_id in leads
        for column, alive in (("user_id", users), ("team_id", teams))
        if state["leads"][lead_id][column]
        != (
            snapshot["leads"][lead_id][column]
            if str(snapshot["leads"][lead_id][column]) in alive
            else None
        )
    ]
    checks.check(not wrong, f"leads lost their salesperson or team: {wrong[:10]}")
    checks.equal(
        set(state["kept_xmlids"].get("crm.stage", {})),
        layer_stage_ids(snapshot),
        "the layers' stages keep their xml ids aside",
    )
    checks.equal(state["xmlids"], {}, "xml ids left to the addon")
    for table in HISTORY_TABLES:
        checks.check(not table_exists(cr, table), f"{table} dropped")
    gone = {model: len(ids) for model, ids in removed.items()}
    checks.notes.append(
        f"removed with the addon: {gone.get('crm.lead', 0)} demo leads, "
        f"{gone.get('res.users', 0)} demo users, {gone.get('crm.team', 0)} teams; "
        f"{len(leads)} leads, {len(partners)} partners, {len(state['stages'])} stages left"
    )


def check_plain_crm_works(checks, env, snapshot):
    """As the administrator in plain CRM: the pipeline reads, a lead moves into a
    former layer stage, a lead is created and edited. Rolled back afterwards."""
    admin = env.ref("base.user_admin")
    Lead = env["crm.lead"].with_user(admin)
    layer_stages = env["crm.stage"].browse(
        sorted(int(stage_id) for stage_id in layer_stage_ids(snapshot))
    )
    views = Lead.get_views([(False, "kanban"), (False, "list"), (False, "form")])
    checks.check(
        set(views["views"]) == {"kanban", "list", "form"}, "crm.lead views load"
    )
    groups = Lead.web_read_group(
        [("type", "=", "opportunity")], ["stage_id"], ["stage_id"]
    )["groups"]
    counts = {group["stage_id"][0]: group["stage_id_count"] for group in groups}
    checks.check(
        set(layer_stages.ids) <= set(counts),
        "every former layer stage is a column of the pipeline",
    )
    env.cr.execute(
        "SELECT stage_id, COUNT(*) FROM crm_lead WHERE active AND type = 'opportunity' GROUP BY stage_id"
    )
    checks.equal(
        {stage_id: count for stage_id, count in counts.items() if count},
        {stage_id: count for stage_id, count in env.cr.fetchall() if stage_id},
        "pipeline read_group by stage",
    )
    lead = Lead.search(
        [("type", "=", "opportunity"), ("stage_id", "!=", layer_stages[-1].id)],
        limit=1,
    )
    lead.write({"stage_id": layer_stages[-1].id})
    checks.equal(lead.stage_id, layer_stages[-1], "a lead moves into a layer stage")
    new = Lead.create(
        {
            "name": "Plain CRM lead",
            "type": "opportunity",
            "stage_id": layer_stages[0].id,
        }
    )
    new.write({"expected_revenue": 1000, "stage_id": layer_stages[1].id})
    checks.equal(
        (new.stage_id, new.expected_revenue),
        (layer_stages[1], 1000),
        "crm.lead create and write",
    )
    new.action_set_won_rainbowman()
    checks.check(new.stage_id.is_won, "a lead is won in plain CRM")
    env.flush_all()
    env.cr.rollback()


def phase_uninstalled(env, args):
    checks = Checks("uninstalled")
    snapshot = json.loads(Path(args.state).read_text())
    state = read_state(env.cr)
    checks.equal(tuple(state["module"])[0], "uninstalled", "module state")
    check_plain_crm_data(checks, env.cr, snapshot, state)
    check_abandon_reason_kept(checks, env, snapshot, funnel=False)
    check_plain_crm_works(checks, env, snapshot)
    env.cr.execute(
        """SELECT indexname FROM pg_indexes
            WHERE tablename = 'crm_lead' AND indexname LIKE 'crm_lead_funnel%'"""
    )
    left = [row[0] for row in env.cr.fetchall()]
    checks.check(not left, f"the addon's indexes on crm_lead are left: {left}")
    return checks


def phase_reinstalled(env, args):
    checks = Checks("reinstalled")
    snapshot = json.loads(Path(args.state).read_text())
    state = read_state(env.cr)
    check_version(checks, env.cr)
    layer_stages = layer_stage_ids(snapshot)
    checks.same_ids(state["stages"], snapshot["stages"], "stages (none created)")
    checks.equal(
        set(state["xmlids"].get("crm.stage", {})),
        layer_stages,
        "the addon's stage xml ids are the same stages",
    )
    checks.equal(state["kept_xmlids"], {}, "no xml id left aside")
    checks.equal(
        Counter(stage["funnel_layer"] for stage in state["stages"].values()),
        Counter(stage["funnel_layer"] for stage in snapshot["stages"].values()),
        "stages per layer (no duplicate layer stage)",
    )
    checks.same_values(state["stages"], snapshot["stages"], "stages", ("funnel_layer",))
    deck = snapshot["deck"]
    # the manager's edit: the name is a CRM column (kept), the ideal days were dropped
    # with the addon's columns and come back with the deck's value
    edited = state["stages"][deck["stage_id"]]
    checks.equal(
        (
            edited["name"]["en_US"],
            edited["sequence"],
            edited["fold"],
            edited["funnel_ideal_days"],
        ),
        (EDITED_NAME, EDITED_SEQUENCE, EDITED_FOLD, deck["ideal_days"]),
        "the manager's stage name, order and folding kept, the deck's ideal days back",
    )
    _removed, leads, partners = uninstall_expectations(snapshot, state)
    checks.same_ids(state["leads"], leads, "leads")
    checks.same_ids(state["partners"], partners, "partners")
    checks.same_values(
        state["leads"], snapshot["leads"], "leads", ("stage_id", "funnel_layer")
    )
    check_reinstalled_history(checks, env, snapshot, state)
    check_abandon_reason_kept(checks, env, snapshot, funnel=True)
    check_paths_stored(checks, env)
    return checks


def check_reinstalled_history(checks, env, snapshot, state):
    """What post_init_hook promises on a reinstall: the history of the customers of
    the stages taken back, dropped with the addon's tables, is back-filled from
    Odoo's tracking of their stage (crm.funnel.move._funnel_backfill): each enters
    the funnel once, its moves follow one another, the last one into its layer,
    and it entered its layer at the date of that move."""
    env.cr.execute(
        "SELECT lead_id, date, from_layer, to_layer FROM crm_funnel_move ORDER BY lead_id, date, id"
    )
    moves = {}
    for lead_id, moved_on, from_layer, to_layer in env.cr.fetchall():
        moves.setdefault(str(lead_id), []).append(
            (moved_on.isoformat(), from_layer, to_layer)
        )
    wrong = []
    for lead_id, lead in state["leads"].items():
        path = moves.get(lead_id, [])
        layers = [(from_layer, to_layer) for _date, from_layer, to_layer in path]
        if not (
            path
            and layers[0][0] is None
            and all(layers[n][1] == layers[n + 1][0] for n in range(len(layers) - 1))
            and layers[-1][1] == lead["funnel_layer"]
            and path[-1][0] == lead["funnel_layer_date"]
        ):
            wrong.append(
                f"#{lead_id} {lead['funnel_layer']} {lead['funnel_layer_date']} {path}"
            )
    checks.check(
        not wrong,
        f"history not back-filled ({len(wrong)} leads): {'; '.join(wrong[:5])}",
    )
    checks.equal(
        [layers for _date, *layers in moves.get(snapshot["check_lead"], [])],
        [[None, "resource"], ["resource", "contacted"]],
        "the tracked stage change of the check's lead back-filled as a move",
    )
    history = state["history"]
    checks.notes.append(
        f"back-filled {history['crm_funnel_move'][0]} moves for {len(moves)} leads "
        f"(before uninstall: {snapshot['history']['crm_funnel_move'][0]} moves); "
        f"assignments {history['crm_funnel_assignment'][0]}, "
        f"contacts {history['crm_funnel_contact'][0]} (not rebuilt)"
    )


PHASES = {
    "snapshot": phase_snapshot,
    "upgraded": phase_upgraded,
    "uninstall": phase_uninstall,
    "uninstalled": phase_uninstalled,
    "reinstalled": phase_reinstalled,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--addons-path")
    parser.add_argument("--phase", choices=PHASES, required=True)
    parser.add_argument("--state", required=True, help="the snapshot's JSON file")
    args = parser.parse_args(argv)
    odoo_args = ["-c", args.config, "-d", args.database]
    if args.addons_path:
        odoo_args += ["--addons-path", args.addons_path]
    odoo.tools.config.parse_config(odoo_args, setup_logging=True)
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        checks = PHASES[args.phase](env, args)
    return checks.report()


if __name__ == "__main__":
    sys.exit(main())
