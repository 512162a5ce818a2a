package io.switchboard.adapter.support;

import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.MessageListenerContainer;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Health component {@code kafka} of a deployed adapter: UP when the broker answers and every
 * listener container that should run (its outbound sender, a reply relay) is running with its
 * partitions assigned. Before that, replies the agents send would wait unsent; an adapter deployed
 * alone thus reports the state of its own consumers, as the router does for its own.
 *
 * <p>Details: {@code brokers} (nodes answering) and {@code consumers} (listener id to
 * {@code assigned N} / {@code waiting for partitions} / {@code stopped} / {@code not started}).
 */
public class ConsumerHealthIndicator extends AbstractHealthIndicator implements DisposableBean {

    private final KafkaAdmin admin;
    private final KafkaListenerEndpointRegistry registry;
    private volatile AdminClient client;

    public ConsumerHealthIndicator(KafkaAdmin admin, KafkaListenerEndpointRegistry registry) {
        super("Kafka health check failed");
        this.admin = admin;
        this.registry = registry;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) throws Exception {
        int nodes = client().describeCluster(new DescribeClusterOptions().timeoutMs(2000)).nodes().get(3, TimeUnit.SECONDS).size();
        builder.withDetail("brokers", nodes);
        boolean ready = nodes > 0;
        Map<String, String> consumers = new TreeMap<>();
        for (MessageListenerContainer c : registry.getListenerContainers()) {
            boolean assigned = c.getAssignedPartitions() != null && !c.getAssignedPartitions().isEmpty();
            String state;
            if (!c.isRunning()) {
                // a container left unstarted on purpose (autoStartup=false) is not a failure
                state = c.isAutoStartup() ? "stopped" : "not started";
                ready &= !c.isAutoStartup();
            } else {
                state = assigned ? "assigned " + c.getAssignedPartitions().size() : "waiting for partitions";
                ready &= assigned;
            }
            consumers.put(c.getListenerId(), state);
        }
        builder.withDetail("consumers", consumers);
        if (ready) {
            builder.up();
        } else {
            builder.down();
        }
    }

    private AdminClient client() {
        if (client == null) {
            synchronized (this) {
                if (client == null) {
                    Map<String, Object> config = new HashMap<>(admin.getConfigurationProperties());
                    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
                    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
                    client = AdminClient.create(config);
                }
            }
        }
        return client;
    }

    @Override
    public void destroy() {
        if (client != null) {
            client.close();
        }
    }
}
