package io.switchboard.adapter.support;

import io.switchboard.contract.Topics;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaAdmin;

import java.util.Map;

/**
 * The one place that decides how the shared topics are created, used by every service that declares
 * one (each adapter for the topics it writes and reads, the router for all of them), so whichever
 * starts first creates a topic exactly as the others would have. Kafka's admin client creates a missing
 * topic and leaves an existing one as it is: two declarations that differed would give a topic whose
 * settings depend on start order.
 *
 * <ul>
 *   <li>partitions: {@code switchboard.topics.partitions} (env {@code SWITCHBOARD_TOPICS_PARTITIONS},
 *       default 6) for every keyed topic; they bound the useful number of router instances and of each
 *       adapter's sender instances. The replay requests and the router's dead letters keep one partition
 *       (their order is the order operators see).</li>
 *   <li>{@code max.message.bytes}: {@value #LARGE_RECORD_BYTES} on inbound topics (raw mail and form
 *       attachments travel inline) and on the dead-letter topic (which takes any inbound record back);
 *       the broker's default elsewhere.</li>
 * </ul>
 * Replication is left to the brokers' default (one broker: 1; the three-broker cluster: 3; ADR 0009).
 */
public final class SharedTopics {

    /** Largest record on an inbound topic (16 MiB); producers that write them set max.request.size to the same. */
    public static final int LARGE_RECORD_BYTES = 16 * 1024 * 1024;

    private final int partitions;

    public SharedTopics(int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("switchboard.topics.partitions must be at least 1, was " + partitions);
        }
        this.partitions = partitions;
    }

    /** Partitions of the keyed topics ({@code switchboard.topics.partitions}). */
    public int partitions() {
        return partitions;
    }

    /** The declaration of one shared topic, the same wherever it is declared. */
    public NewTopic topic(String name) {
        return TopicBuilder.name(name).partitions(partitionsOf(name)).configs(configsOf(name)).build();
    }

    /** Declarations for {@link KafkaAdmin} (created at startup when missing). */
    public KafkaAdmin.NewTopics declare(String... names) {
        NewTopic[] topics = new NewTopic[names.length];
        for (int i = 0; i < names.length; i++) {
            topics[i] = topic(names[i]);
        }
        return new KafkaAdmin.NewTopics(topics);
    }

    int partitionsOf(String name) {
        return name.equals(Topics.CONTROL_REPLAY) || name.equals(Topics.ROUTER_DEAD_LETTER) ? 1 : partitions;
    }

    /** Topic configs by name: what the same topic gets wherever it is declared. */
    public static Map<String, String> configsOf(String name) {
        if (Topics.allInbound().contains(name) || name.equals(Topics.ROUTER_DEAD_LETTER)) {
            return Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(LARGE_RECORD_BYTES));
        }
        return Map.of();
    }
}
