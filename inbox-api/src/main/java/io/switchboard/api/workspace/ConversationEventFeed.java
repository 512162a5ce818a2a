package io.switchboard.api.workspace;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * Feeds the live streams from {@code inbox.conversation.events.v1}. Every API instance must see
 * every event (each has its own browsers), so this consumer takes all partitions by assignment,
 * without a consumer group, from the end of the log: live views want what happens from now on
 * (a page loads current state over the API, then follows the stream). Nothing is committed.
 */
@Component
class ConversationEventFeed implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ConversationEventFeed.class);

    private final ObjectProvider<ConsumerFactory<?, ?>> consumers;
    private final LiveHub hub;
    private final ObjectProvider<AutoAssignment> assignment;
    private volatile boolean running;
    private volatile Consumer<?, ?> consumer;
    private Thread thread;

    ConversationEventFeed(ObjectProvider<ConsumerFactory<?, ?>> consumers, LiveHub hub,
                          ObjectProvider<AutoAssignment> assignment) {
        this.consumers = consumers;
        this.hub = hub;
        this.assignment = assignment;
    }

    @Override
    public void start() {
        ConsumerFactory<?, ?> factory = consumers.getIfAvailable();
        if (factory == null) {
            log.warn("no Kafka consumer factory: live updates are off");
            return;
        }
        Properties overrides = new Properties();
        overrides.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        overrides.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        overrides.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        overrides.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        overrides.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        consumer = factory.createConsumer(null, "inbox-api-live", null, overrides);
        running = true;
        thread = new Thread(this::run, "live-events");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        Set<TopicPartition> assigned = new HashSet<>();
        long nextCheck = 0;
        try {
            while (running) {
                if (System.nanoTime() - nextCheck > 0) {
                    nextCheck = System.nanoTime() + (assigned.isEmpty() ? Duration.ofSeconds(1) : Duration.ofSeconds(60)).toNanos();
                    assigned = reassign(assigned);
                }
                if (assigned.isEmpty()) {
                    Thread.sleep(200);
                    continue;
                }
                for (ConsumerRecord<?, ?> record : consumer.poll(Duration.ofMillis(500))) {
                    forward(record);
                }
            }
        } catch (WakeupException | InterruptedException stopping) {
            // shutting down
        } catch (RuntimeException e) {
            log.warn("live event feed stopped: {}", e.toString());
        } finally {
            try {
                consumer.close(Duration.ofSeconds(2));
            } catch (RuntimeException ignored) {
                // closing anyway
            }
        }
    }

    private Set<TopicPartition> reassign(Set<TopicPartition> assigned) {
        List<PartitionInfo> infos;
        try {
            infos = consumer.partitionsFor(Topics.CONVERSATION_EVENTS, Duration.ofSeconds(5));
        } catch (WakeupException e) {
            throw e;
        } catch (RuntimeException notYet) {
            return assigned;
        }
        Set<TopicPartition> all = new HashSet<>();
        for (PartitionInfo p : infos == null ? List.<PartitionInfo>of() : infos) {
            all.add(new TopicPartition(p.topic(), p.partition()));
        }
        if (all.isEmpty() || all.equals(assigned)) {
            return assigned;
        }
        Set<TopicPartition> added = new HashSet<>(all);
        added.removeAll(assigned);
        consumer.assign(all);
        consumer.seekToEnd(added);
        added.forEach(consumer::position); // resolve "end" now, so events from here on are seen
        return all;
    }

    /** Looked up once: the lookup per event showed in the pipeline benchmark's profile (a bean factory search each time). */
    private volatile java.util.Optional<AutoAssignment> autoAssignment;

    private java.util.Optional<AutoAssignment> autoAssignment() {
        java.util.Optional<AutoAssignment> a = autoAssignment;
        if (a == null) {
            a = java.util.Optional.ofNullable(assignment.getIfAvailable());
            autoAssignment = a;
        }
        return a;
    }

    private void forward(ConsumerRecord<?, ?> record) {
        if (!(record.value() instanceof byte[] bytes)) {
            return;
        }
        try {
            ConversationEvent event = ContractJson.fromBytes(bytes, ConversationEvent.class);
            hub.broadcast("conversation", ContractJson.toJson(event), event.conversationId());
            if (ConversationEvent.CONVERSATION_OPENED.equals(event.type()) || ConversationEvent.MESSAGE_ADDED.equals(event.type())) {
                autoAssignment().ifPresent(AutoAssignment::nudge);
            }
        } catch (RuntimeException undecodable) {
            log.debug("skipped an undecodable conversation event at offset {}", record.offset());
        }
    }

    @Override
    public void stop() {
        running = false;
        Consumer<?, ?> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        if (thread != null) {
            try {
                thread.join(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100;
    }
}
