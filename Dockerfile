# reauth's container image: a static binary on distroless, running as the non-root user 65532.
# For a Kubernetes Job against a Helm-installed Jira/Confluence: see deploy/kubernetes/.
#   docker build -t reauth:dev .
#   docker run --rm reauth:dev version
# (Not built in this repository's CI: it has no container runtime.)

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.0.0-container
ARG COMMIT=""
ARG BUILD_DATE=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/reauth/reauth/internal/cli.Version=${VERSION} -X github.com/reauth/reauth/internal/cli.Commit=${COMMIT} -X github.com/reauth/reauth/internal/cli.BuildDate=${BUILD_DATE}" \
      -o /out/reauth ./cmd/reauth

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/reauth /usr/local/bin/reauth
USER 65532:65532
# reauth's private state (backups with live tokens, journals): mount a volume here.
ENV XDG_STATE_HOME=/var/lib/reauth
ENTRYPOINT ["/usr/local/bin/reauth"]
CMD ["--help"]
