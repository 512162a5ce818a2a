package io.switchboard.channel.email;

import io.switchboard.contract.ContractJson;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.kafka.core.KafkaTemplate;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Where each mailbox's sync stands, kept in a compacted Kafka topic keyed by mailbox, so the
 * adapter needs no database and resumes after any outage exactly after the last message it
 * published (the Kafka Connect source-offset pattern). Value: {@code {"uidValidity":..,"lastUid":..}}.
 */
class EmailCursors {

    /** The compacted topic holding the cursors. */
    static final String TOPIC = "inbox.adapter-state.email.v1";

    /** A mailbox position: every message with a UID above {@code lastUid} under this UIDVALIDITY is still to ingest. */
    record Cursor(long uidValidity, long lastUid) {
    }

    private final KafkaTemplate<String, byte[]> kafka;
    private final KafkaProperties kafkaProperties;
    private final Map<String, Cursor> cursors = new ConcurrentHashMap<>();
    private volatile boolean loaded;

    EmailCursors(KafkaTemplate<String, byte[]> kafka, KafkaProperties kafkaProperties) {
        this.kafka = kafka;
        this.kafkaProperties = kafkaProperties;
    }

    static String key(String account, String folder) {
        return account + "/" + folder;
    }

    Optional<Cursor> get(String mailbox) {
        return Optional.ofNullable(cursors.get(mailbox));
    }

    /** Records the new position durably; returns only once the broker has it. */
    void save(String mailbox, Cursor cursor) throws Exception {
        byte[] value = ContractJson.toBytes(Map.of("uidValidity", cursor.uidValidity(), "lastUid", cursor.lastUid()));
        kafka.send(TOPIC, mailbox, value).get(30, TimeUnit.SECONDS);
        cursors.put(mailbox, cursor);
    }

    /** Reads the whole topic once (the last value per key wins); safe to call again, it loads only once. */
    synchronized void load() {
        if (loaded) {
            return;
        }
        Map<String, Object> config = new HashMap<>(kafkaProperties.buildConsumerProperties());
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
            List<PartitionInfo> infos = consumer.partitionsFor(TOPIC, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                loaded = true;
                return;
            }
            List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cursor topic " + TOPIC + " not read within 2 minutes");
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() == null) {
                        continue;
                    }
                    if (r.value() == null) {
                        cursors.remove(r.key());
                        continue;
                    }
                    JsonNode node = ContractJson.mapper().readTree(r.value());
                    cursors.put(r.key(), new Cursor(node.path("uidValidity").asLong(), node.path("lastUid").asLong()));
                }
            }
        }
        loaded = true;
    }
}
