//! Connections to the attached servers: a cluster (through the redis crate's cluster client,
//! which follows `MOVED`/`ASK` and retries `TRYAGAIN`/`CLUSTERDOWN` with backoff) or one
//! standalone server, behind one type.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{
    MultipleNodeRoutingInfo, ResponsePolicy, Route, RoutingInfo, SingleNodeRoutingInfo, Slot,
    SlotAddr,
};
use redis::{AsyncConnectionConfig, Cmd, FromRedisValue, RedisResult, TlsCertificates, Value};

/// How long one request may take before it counts as failed (a commit of a full batch, a
/// blocking read's `BLOCK` time plus this).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// What `--attach` names: a cluster's seed nodes, or one standalone server.
#[derive(Clone)]
pub enum Client {
    /// A Redis Cluster or Valkey cluster.
    Cluster(Box<ClusterClient>),
    /// One server.
    Single(Box<redis::Client>),
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Client::Cluster(_) => "Client::Cluster",
            Client::Single(_) => "Client::Single",
        })
    }
}

impl Client {
    /// Connects to the first of `urls` that answers and asks whether it is a cluster node;
    /// a cluster is then reached through all of them as seeds.
    /// `ca_file` (PEM) is what `rediss://` servers' certificates must be signed by, instead
    /// of the system's roots.
    pub async fn open(
        urls: &[String],
        ca_file: Option<&std::path::Path>,
    ) -> anyhow::Result<Client> {
        let certs = match ca_file {
            Some(path) => Some(TlsCertificates {
                client_tls: None,
                root_cert: Some(std::fs::read(path).map_err(|e| {
                    anyhow::anyhow!("reading the attach CA file {}: {e}", path.display())
                })?),
            }),
            None => None,
        };
        let mut last = None;
        for url in urls {
            let client = match &certs {
                Some(certs) => redis::Client::build_with_tls(url.as_str(), certs.clone())?,
                None => redis::Client::open(url.as_str())?,
            };
            let config = AsyncConnectionConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
            let mut conn = match client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(conn) => conn,
                Err(e) => {
                    last = Some(anyhow::anyhow!("{url}: {e}"));
                    continue;
                }
            };
            let info: String = redis::cmd("INFO")
                .arg("cluster")
                .query_async(&mut conn)
                .await?;
            if !info.contains("cluster_enabled:1") {
                if urls.len() > 1 {
                    anyhow::bail!(
                        "{url} is a standalone server, not a cluster node: --attach it alone"
                    );
                }
                return Ok(Client::Single(Box::new(client)));
            }
            let mut builder = ClusterClient::builder(urls.iter().map(String::as_str))
                .response_timeout(RESPONSE_TIMEOUT)
                .connection_timeout(Duration::from_secs(5))
                .retries(8);
            if let Some(certs) = &certs {
                builder = builder.certs(certs.clone());
            }
            let cluster = builder.build()?;
            return Ok(Client::Cluster(Box::new(cluster)));
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no --attach URL given")))
    }

    /// A new connection (a cluster connection reaches every master): the shared one for
    /// commands, or one of a blocking reader's own.
    pub async fn connect(&self) -> RedisResult<Conn> {
        Ok(match self {
            Client::Cluster(c) => Conn::Cluster(c.get_async_connection().await?),
            Client::Single(c) => {
                let config =
                    AsyncConnectionConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
                Conn::Single(
                    c.get_multiplexed_async_connection_with_config(&config)
                        .await?,
                )
            }
        })
    }
}

/// A connection to the attached cluster or server.
#[derive(Clone)]
pub enum Conn {
    /// To a cluster: each command goes to its key's master.
    Cluster(ClusterConnection),
    /// To one server.
    Single(MultiplexedConnection),
}

impl Conn {
    /// Runs `cmd` (on its key's master).
    pub async fn query<T: FromRedisValue>(&mut self, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Conn::Cluster(c) => cmd.query_async(c).await,
            Conn::Single(c) => cmd.query_async(c).await,
        }
    }

    /// Runs `cmd` on every master; fails if any fails.
    pub async fn on_all_masters(&mut self, cmd: &Cmd) -> RedisResult<()> {
        match self {
            Conn::Cluster(c) => {
                let routing = RoutingInfo::MultiNode((
                    MultipleNodeRoutingInfo::AllMasters,
                    Some(ResponsePolicy::AllSucceeded),
                ));
                c.route_command(cmd.clone(), routing).await.map(drop)
            }
            Conn::Single(c) => cmd.query_async::<Value>(c).await.map(drop),
        }
    }

    /// Runs a keyless `cmd` (`WAIT`) on the master of `key`'s slot.
    pub async fn on_master_of(&mut self, key: &[u8], cmd: &Cmd) -> RedisResult<Value> {
        match self {
            Conn::Cluster(c) => {
                let route = Route::with_slot(Slot::for_key(key), SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                c.route_command(cmd.clone(), routing).await
            }
            Conn::Single(c) => cmd.query_async(c).await,
        }
    }

    /// Runs `cmd` on the node at `host:port` (`None`: the standalone server).
    pub async fn on_node(&mut self, node: Option<&(String, u16)>, cmd: &Cmd) -> RedisResult<Value> {
        match (self, node) {
            (Conn::Cluster(c), Some((host, port))) => {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port: *port,
                });
                c.route_command(cmd.clone(), routing).await
            }
            (Conn::Cluster(c), None) => cmd.query_async(c).await,
            (Conn::Single(c), _) => cmd.query_async(c).await,
        }
    }

    /// The masters' addresses (`CLUSTER NODES`, those not failed); none for a standalone
    /// server (its one node is reached with `None`).
    pub async fn masters(&mut self) -> RedisResult<Vec<(String, u16)>> {
        let Conn::Cluster(c) = self else {
            return Ok(Vec::new());
        };
        let nodes: String = redis::cmd("CLUSTER").arg("NODES").query_async(c).await?;
        Ok(parse_masters(&nodes))
    }

    /// Whether this is a cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self, Conn::Cluster(_))
    }
}

/// The masters in a `CLUSTER NODES` reply: `<id> <host:port@bus> <flags> <master> …`.
fn parse_masters(nodes: &str) -> Vec<(String, u16)> {
    let mut masters = Vec::new();
    for line in nodes.lines() {
        let mut words = line.split_whitespace();
        let (Some(_id), Some(addr), Some(flags)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let flags: Vec<&str> = flags.split(',').collect();
        if !flags.contains(&"master") || flags.iter().any(|f| f.starts_with("fail")) {
            continue;
        }
        let addr = addr.split('@').next().unwrap_or(addr);
        let Some((host, port)) = addr.rsplit_once(':') else {
            continue;
        };
        if let Ok(port) = port.parse() {
            masters.push((host.to_owned(), port));
        }
    }
    masters
}

/// Whether `a` and `b` are in one hash slot (a function's keys must be).
pub fn same_slot(a: &[u8], b: &[u8]) -> bool {
    Slot::for_key(a) == Slot::for_key(b)
}

/// The hash tag under which a key beside `key` lands in its slot: `key`'s own tag, or
/// `key` itself.
pub fn tag_of(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{')
        && let Some(len) = key[open + 1..].iter().position(|&b| b == b'}')
        && len > 0
    {
        return &key[open + 1..open + 1 + len];
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_are_read_from_cluster_nodes() {
        let nodes = "a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460\n\
                     b2 127.0.0.1:7004@17004 slave a1 0 0 1 connected\n\
                     c3 127.0.0.1:7002@17002 master,fail - 0 0 2 connected\n\
                     d4 127.0.0.1:7003@17003 master - 0 0 3 connected 10923-16383\n";
        assert_eq!(
            parse_masters(nodes),
            [
                ("127.0.0.1".to_owned(), 7001),
                ("127.0.0.1".to_owned(), 7003)
            ]
        );
    }

    #[test]
    fn tags_keep_keys_in_their_slot() {
        assert_eq!(tag_of(b"orders:{eu}:big"), b"eu");
        assert_eq!(tag_of(b"orders"), b"orders");
        assert_eq!(tag_of(b"a{}b"), b"a{}b");
        let seen = [b"{".as_slice(), tag_of(b"orders:{eu}:big"), b"}:seen"].concat();
        assert!(same_slot(&seen, b"orders:{eu}"));
        let seen = [b"{".as_slice(), tag_of(b"plain"), b"}:seen"].concat();
        assert!(same_slot(&seen, b"plain"));
        assert!(!same_slot(b"orders:{eu}", b"orders:{us}"));
    }
}
