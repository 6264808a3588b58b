#!/usr/bin/env bash
# The Jenkins "Deploy_only" job done with Baton, for any CI: promote the built image tag GEN_DOCKER_VERSION to the
# release tag RELEASE_VERSION in the registry (no docker pull/tag/push), then deploy RELEASE_VERSION to DEPLOY_ENV,
# datacenter by datacenter, wait until it runs healthy, roll back if it does not. The exit code is baton's (README).
#
#   APP              the app folder in deploy-configs/ (e.g. shop-web)
#   DEPLOY_ENV       qa | yz | prod
#   DEPLOY_DC        a datacenter, a comma list, or empty for all
#   RELEASE_VERSION  the release tag to deploy (e.g. 1.4.2)
#   GEN_DOCKER_VERSION  the tag the build pushed (default latest); equal to RELEASE_VERSION or empty: no promotion
#   BATON_RESULT     where to write the JSON result (default baton-result.json), for the CI to archive
#
# Confirmation of prod is the CI's (Jenkins' input step, GitLab's manual job): the script passes --yes.
set -euo pipefail
: "${APP:?set APP}" "${DEPLOY_ENV:?set DEPLOY_ENV}" "${RELEASE_VERSION:?set RELEASE_VERSION}"
source_tag="${GEN_DOCKER_VERSION:-latest}"
args=(deploy "$APP" --env "$DEPLOY_ENV" --version "$RELEASE_VERSION" --yes --json)
if [ -n "${DEPLOY_DC:-}" ]; then args+=(--dc "$DEPLOY_DC"); fi
if [ "$source_tag" != "$RELEASE_VERSION" ]; then args+=(--promote-from "$source_tag"); fi
exec baton "${args[@]}" > "${BATON_RESULT:-baton-result.json}"
