# The Python test clients of the end-to-end scripts (authlib, requests, joserfc, selenium, schemathesis,
# openapi-spec-validator, aiosmtpd, pyotp, zxing-cpp, pillow and mcp, from PyPI), in a virtual environment under
# .build/ so nothing is installed system-wide. Source it after setting $root.
#
# python_clients — prints the venv's python, creating the venv and installing the pinned clients on first use
python_clients() {
  local venv="$root/.build/python-e2e"
  if ! "$venv/bin/python" -c 'import authlib, requests, joserfc, selenium, schemathesis, openapi_spec_validator, aiosmtpd, pyotp, zxingcpp, PIL, mcp' 2>/dev/null; then
    python3 -m venv "$venv" >&2 || return 1
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/requirements-e2e.txt" >&2 || return 1
  fi
  echo "$venv/bin/python"
}
