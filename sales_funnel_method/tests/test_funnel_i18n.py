from pathlib import Path

import polib
from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools.translate import TranslationModuleReader

from ..hooks import _load_deck_terms
from .common import SalesFunnelCommon

I18N = Path(__file__).resolve().parent.parent / "i18n"


@tagged("post_install", "-at_install")
class TestFunnelTranslations(SalesFunnelCommon):
    """Every term users see is translated into Chinese, with the deck's words."""

    def test_every_term_has_a_chinese_translation(self):
        terms = {
            source
            for _module, _type, _name, _res_id, source, _value, _comments in TranslationModuleReader(
                self.env.cr, modules=["sales_funnel_method"]
            )
            if source
        }
        self.assertGreater(len(terms), 100)
        po = polib.pofile(str(I18N / "zh_CN.po"))
        translated = {
            entry.msgid
            for entry in po
            if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags
        }
        missing = sorted(terms - translated)
        self.assertFalse(missing, f"untranslated in i18n/zh_CN.po: {missing[:20]}")
        pot = polib.pofile(str(I18N / "sales_funnel_method.pot"))
        self.assertFalse(
            sorted(terms - {entry.msgid for entry in pot}),
            "i18n/sales_funnel_method.pot is out of date: export it again",
        )

    def test_layers_speak_the_deck_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["sales_funnel_method"], ["zh_CN"], overwrite=True
        )
        stages = {
            layer: stage.with_context(lang="zh_CN").name
            for layer, stage in self.stages.items()
        }
        self.assertEqual(
            stages,
            {
                "resource": "客户资源",
                "graded": "已分级客户",
                "contacted": "已接触客户",
                "lead": "有线索客户",
                "intent": "意向客户",
                "signed": "签约客户",
                "implemented": "已实施客户",
                "abandoned": "放弃客户",
            },
        )
        lead = self._create_customers(layer="resource").with_context(lang="zh_CN")
        with self.assertRaisesRegex(UserError, "评级"):
            lead.write({"stage_id": self.stages["contacted"].id})

    def _install_chinese(self, modules=("crm", "sales_funnel_method")):
        """As Odoo installs a language: the terms of every module, in order."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"].search(
            [("name", "in", list(modules))]
        )._update_translations(["zh_CN"])

    def test_abandon_reasons_speak_the_deck_language(self):
        self._install_chinese()
        reasons = self.env["crm.lost.reason"].search([("funnel_reason", "=", True)])
        self.assertEqual(
            set(reasons.with_context(lang="zh_CN").mapped("name")),
            {"明确表示拒绝", "无法联系跟踪", "不适合我们的产品", "购买了其他企业产品"},
        )
        # Odoo's own reasons stay, for the teams outside the funnel
        self.assertFalse(self.env.ref("crm.lost_reason_1").funnel_reason)

    def test_funnel_screens_filter_signed_and_abandoned(self):
        """My Funnel and the pool filter signed and abandoned customers (签约,
        放弃) where Odoo's pipeline says won and lost."""
        self._install_chinese()

        def labels(xmlid, lang):
            record = self.env.ref(xmlid)
            view = record.search_view_id if record._name != "ir.ui.view" else record
            arch = (
                self.env["crm.lead"]
                .with_context(lang=lang)
                .get_view(view.id, "search")["arch"]
            )
            filters = etree.fromstring(arch).iterfind(".//filter")
            names = ("filter_won", "filter_lost", "lostreason")
            return [f.get("string") for f in filters if f.get("name") in names]

        for action in (
            "sales_funnel_method.crm_lead_action_my_funnel",
            "sales_funnel_method.crm_lead_action_pool",
        ):
            self.assertEqual(
                labels(action, "en_US"), ["Signed", "Abandoned", "Abandon Reason"]
            )
            self.assertEqual(
                labels(action, "zh_CN"), ["签约客户", "放弃客户", "放弃原因"]
            )
        pipeline = labels("crm.view_crm_case_opportunities_filter", "en_US")
        self.assertEqual(pipeline, ["Won", "Lost", "Lost Reason"])

    def test_odoo_pipeline_is_the_sales_funnel_in_chinese(self):
        self._install_chinese()
        menu = self.env.ref("crm.menu_crm_opportunities").with_context(lang="zh_CN")
        action = self.env.ref("crm.crm_lead_action_pipeline").with_context(lang="zh_CN")
        self.assertEqual(menu.name, "我的销售漏斗看板")
        self.assertEqual(action.name, "销售漏斗")
        # updating crm keeps them
        self._install_chinese(["crm"])
        self.assertEqual(menu.name, "我的销售漏斗看板")
        # Chinese installed before the addon: Odoo's own words are there first,
        # and the addon's install puts the deck's over them
        menu.name, action.name = "我的渠道", "渠道"
        _load_deck_terms(self.env)
        menu.invalidate_recordset(["name"])
        action.invalidate_recordset(["name"])
        self.assertEqual(menu.name, "我的销售漏斗看板")
        self.assertEqual(action.name, "销售漏斗")
        self.assertEqual(menu.with_context(lang="en_US").name, "My Pipeline")
