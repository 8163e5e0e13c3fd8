#!/usr/bin/env bash
# Export the addon's translation template and merge it into every .po file.
# Uses (and updates) the database of `make run`, or DB=... ; needs gettext's msgmerge.
source "$(dirname "$0")/lib.sh"
DB=${DB:-sales_funnel}
ensure_odoo; ensure_venv; ensure_postgres; write_conf
module_installed "$DB" || die "database '$DB' has no sales_funnel_method: run make run first, or set DB."
odoo -d "$DB" -u sales_funnel_method --stop-after-init --log-level=warn
I18N=$ROOT/sales_funnel_method/i18n
odoo -d "$DB" --i18n-export="$I18N/sales_funnel_method.pot" --modules=sales_funnel_method --stop-after-init --log-level=warn
command -v msgmerge >/dev/null || die "msgmerge is missing. Fix: apt-get install gettext"
for po in "$I18N"/*.po; do
    msgmerge --quiet --update --no-fuzzy-matching --backup=none "$po" "$I18N/sales_funnel_method.pot"
done
say "exported $I18N/sales_funnel_method.pot; untranslated entries are left empty in the .po files"
