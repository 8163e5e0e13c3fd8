"""Contact details that the pool's masking rule hides from reps (issue 13).

A pool customer belongs to the company (METHOD 11): with the company's "Mask Pool
Customers' Contact Details" on, a rep reads its phone, mobile and email masked
until they hold it, so that nobody works the pool outside the system. The
fields below are Odoo's own, redefined with a type that masks the value where
Odoo hands it to a user: ``read`` and ``search_read`` (RPC), the web client's
``web_read`` and ``web_search_read`` (form, list, kanban, the chatter's
partner cards), and export. Grouping by them (``read_group``, hence the web
client's ``web_read_group`` and ``read_progress_bar``), which would hand the real
values over as group keys, is refused to the users who read them masked
(``check_masked_grouping``). Server code reading the attribute (``lead.phone``)
or grouping in Python (``_read_group``) still gets the real value: the duplicate
check, mails, merges.

Whether a record is masked for the current user is its ``funnel_contact_masked``
field, computed once for a whole batch by the allocation service.
"""

import re

from odoo import api, fields, models
from odoo.exceptions import UserError

EMAIL_PATTERN = re.compile(r"([^\s<>\"',;:@]+)@([^\s<>\"',;:@]+)")


def mask_phone(value):
    """``+86 138 0013 8000`` -> ``+86 *** **** **00``: the country code and the last
    two digits stay, so that a rep can tell two numbers apart but not call them."""
    if len(value) <= 5:
        return re.sub(r"\d", "*", value)
    return value[:3] + re.sub(r"\d", "*", value[3:-2]) + value[-2:]


def mask_email(value):
    """``zhang.wei@example.com`` -> ``z***@example.com``, every address of the value."""
    return EMAIL_PATTERN.sub(
        lambda match: match.group(1)[:1] + "***@" + match.group(2), value
    )


class _MaskedChar(fields.Char):
    _funnel_mask = None

    def _funnel_masked(self, value, record):
        if value and isinstance(value, str) and record.funnel_contact_masked:
            return self._funnel_mask(value)
        return value

    def convert_to_read(self, value, record, use_display_name=True):
        return self._funnel_masked(
            super().convert_to_read(value, record, use_display_name), record
        )

    def convert_to_export(self, value, record):
        return self._funnel_masked(super().convert_to_export(value, record), record)


class MaskedPhone(_MaskedChar):
    """A phone number masked for the users ``funnel_contact_masked`` says."""

    _funnel_mask = staticmethod(mask_phone)


class MaskedEmail(_MaskedChar):
    """An email address (or several) masked for the users ``funnel_contact_masked`` says."""

    _funnel_mask = staticmethod(mask_email)


# aggregates that say nothing of the values themselves
HARMLESS_AGGREGATES = ("count", "count_distinct")


def _grouping_fields(groupby, aggregates):
    """The field names ``read_group`` groups by or aggregates with a function that
    returns the values (``array_agg``, ``max``, ...)."""
    for spec in [groupby] if isinstance(groupby, str) else groupby or ():
        yield spec.split(":")[0].split(".")[0]
    for spec in aggregates or ():
        name, _sep, function = spec.partition(":")
        if "(" in function:  # name:function(field)
            function, _sep, name = function.rstrip(")").partition("(")
        if function and function not in HARMLESS_AGGREGATES:
            yield name


def check_masked_grouping(records, groupby, aggregates=()):
    """Refuse ``read_group`` by a masked field of ``records``'s model to a user who
    reads pool customers' contact details masked: its groups would name them."""
    env = records.env
    masked = [
        records._fields[name]
        for name in _grouping_fields(groupby, aggregates)
        if isinstance(records._fields.get(name), _MaskedChar)
    ]
    if not masked or not env["crm.funnel.allocation"]._funnel_masks_contacts(
        env.companies | env.company
    ):
        return
    raise UserError(
        env._(
            "You cannot group or total by %(field)s: the contact details of the "
            "pool's customers are masked for you until you hold them.",
            field=masked[0]._description_string(env),
        )
    )


class CrmFunnelMaskedMixin(models.AbstractModel):
    """Models with masked contact details (crm.lead, res.partner): grouping by them
    is refused to the users who read them masked (``check_masked_grouping``)."""

    _name = "crm.funnel.masked.mixin"
    _description = "Funnel Masked Contact Details"

    @api.model
    def read_group(
        self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True
    ):
        # the groups would name the masked contact details
        check_masked_grouping(self, groupby, fields)
        return super().read_group(
            domain,
            fields,
            groupby,
            offset=offset,
            limit=limit,
            orderby=orderby,
            lazy=lazy,
        )
