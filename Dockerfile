# Builds the humit binary; used by docker-compose.yml.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin humit

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/humit /usr/local/bin/humit
ENV HUMIT_ADDR=0.0.0.0:8080 HUMIT_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["humit"]
CMD ["serve"]
