# Sourced by the checks that run with the network cut. Sets `cut`, a command prefix (a
# network namespace of our own, no interface up), `cut_env`, assignments for `env` (where
# no namespace can be had: proxies, pip's index and the Debian archive set to a closed
# port), and `barrier`, which of them it is.
cut=()
cut_env=()
if unshare -rn true 2>/dev/null; then
    cut=(unshare -rn); barrier="a network namespace (unshare -rn)"
elif unshare -n true 2>/dev/null; then
    cut=(unshare -n); barrier="a network namespace (unshare -n)"
else
    closed=http://127.0.0.1:9
    cut_env=(http_proxy=$closed https_proxy=$closed HTTP_PROXY=$closed HTTPS_PROXY=$closed
             ALL_PROXY=$closed no_proxy= SANDBOXLIB_DEBIAN_MIRROR=$closed
             PIP_CONFIG_FILE=/dev/null PIP_INDEX_URL=$closed)
    barrier="proxies and the archive set to a closed port (unshare is unavailable)"
fi
