package io.switchboard.router.health;

import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.stereotype.Component;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * UP when the broker answers and every listener container runs with its partitions assigned:
 * before that, messages accepted by the webhooks would wait unprocessed.
 */
@Component("kafkaHealthIndicator")
class KafkaHealthIndicator extends AbstractHealthIndicator implements DisposableBean {

    private final KafkaAdmin admin;
    private final KafkaListenerEndpointRegistry registry;
    private volatile AdminClient client;

    KafkaHealthIndicator(KafkaAdmin admin, KafkaListenerEndpointRegistry registry) {
        super("Kafka health check failed");
        this.admin = admin;
        this.registry = registry;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) throws Exception {
        int nodes = client().describeCluster(new DescribeClusterOptions().timeoutMs(2000)).nodes().get(3, TimeUnit.SECONDS).size();
        builder.withDetail("brokers", nodes);
        boolean ready = nodes > 0;
        Map<String, String> consumers = new HashMap<>();
        for (MessageListenerContainer c : registry.getListenerContainers()) {
            boolean assigned = c.getAssignedPartitions() != null && !c.getAssignedPartitions().isEmpty();
            String state = !c.isRunning() ? "stopped" : assigned ? "assigned " + c.getAssignedPartitions().size() : "waiting for partitions";
            consumers.put(c.getListenerId(), state);
            ready &= c.isRunning() && assigned;
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
