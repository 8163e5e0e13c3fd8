#!/usr/bin/env bash
# make screenshots: take the app page's screenshots again and put them into
# sales_funnel_method/static/description/screenshots/ (the test suite takes them
# in a temporary folder only, so that a test run never changes the source tree).
# Commit them when a screen has really changed.
export FUNNEL_SCREENSHOTS_DIR
FUNNEL_SCREENSHOTS_DIR=$(cd "$(dirname "$0")/.." && pwd)/sales_funnel_method/static/description/screenshots
exec bash "$(dirname "$0")/test.sh" sales_funnel_method/tests/test_funnel_screenshots.py
