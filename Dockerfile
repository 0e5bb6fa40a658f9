# airouter on Debian 12's own nginx: the image builds the module with the
# same make targets as the README and serves conf.example/ (the demo
# channels run inside the same nginx).
#   docker build -t airouter . && docker run --rm -p 127.0.0.1:8080:8080 airouter
# (the demo's admin API has no token: publish the port on loopback only)
FROM debian:12-slim

RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends make ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src/airouter
COPY . .

# the same targets as on a workstation: deps, build, test
RUN make deps && make build && make test \
    && rm -rf /var/lib/apt/lists/* t/servroot*

EXPOSE 8080
# make demo binds 127.0.0.1; inside a container the port must face out
CMD ["sh", "-c", "make demo PORT=8080 LISTEN=0.0.0.0 && tail -F run/demo/logs/error.log"]
