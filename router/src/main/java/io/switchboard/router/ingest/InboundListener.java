package io.switchboard.router.ingest;

import io.switchboard.contract.ConversationEvent;
import io.switchboard.router.tracing.RecordTracing;
import io.switchboard.store.InboxStore;
import io.switchboard.store.StoreDurability;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Consumes every inbound topic in batches: decode and normalize, load what the writes will look up,
 * write; then make the writes durable
 * and wait for the dead letters and domain events, and only then return, which lets the container
 * commit the offsets. A crash anywhere before that redelivers the batch, and the idempotent writes
 * absorb the repeat.
 */
@Component
public class InboundListener {

    private final RecordProcessor processor;
    private final ConversationEvents events;
    private final StoreDurability durability;
    private final InboxStore store;
    private final RecordTracing tracing;
    private final io.micrometer.core.instrument.MeterRegistry meters;

    public InboundListener(RecordProcessor processor, ConversationEvents events, ObjectProvider<StoreDurability> durability,
                           InboxStore store, RecordTracing tracing, io.micrometer.core.instrument.MeterRegistry meters) {
        this.processor = processor;
        this.meters = meters;
        this.store = store;
        this.events = events;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.tracing = tracing;
    }

    /** Payload characters normalized ahead of their writes, at most (see {@link #onBatch}). */
    static final long PREPARED_BYTES = 32L * 1024 * 1024;

    /** Runs of a slice that lost a creation race (see {@link InboxStore.BatchConflictException}), at most. */
    static final int CONFLICT_ATTEMPTS = 5;

    private void write(List<RecordProcessor.Prepared> prepared, List<ConversationEvent> changes) {
        if (prepared.isEmpty()) {
            return;
        }
        int eventsBefore = changes.size();
        List<ConversationEvent> failedRuns = new ArrayList<>();
        for (int attempt = 1; ; attempt++) {
            try {
                writeOnce(prepared, changes);
                break;
            } catch (InboxStore.BatchConflictException e) {
                // another router thread created the same new contact or thread meanwhile: this slice runs
                // again on what the store holds now
                List<ConversationEvent> run = changes.subList(eventsBefore, changes.size());
                failedRuns.addAll(run);
                run.clear();
                if (attempt == CONFLICT_ATTEMPTS) {
                    changes.addAll(failedRuns); // what they wrote may be stored: see Uncounted
                    throw e; // the container retries the whole batch
                }
            }
        }
        if (!failedRuns.isEmpty()) {
            List<ConversationEvent> rerun = changes.subList(eventsBefore, changes.size());
            List<ConversationEvent> merged = afterConflict(failedRuns, new ArrayList<>(rerun),
                    store.storedConversations(failedRuns.stream().map(ConversationEvent::conversationId).toList()));
            rerun.clear();
            changes.addAll(merged);
        }
    }

    /**
     * The events of a slice that ran again after a conflict. A failed run may have written part of its
     * changes before the conflict (a write outside the held-back path flushes what it depends on); the
     * rerun finds those stored and makes no event for them (for a customer message only a repeat), so the
     * failed runs' events are kept, first (they were written first), where their conversation is stored:
     * one that is not was a new conversation of the failed run, never inserted, and the rerun made its
     * events under the winner's id. Event ids are derived from conversation and message, so an event both
     * runs made is kept once, as the failed run made it.
     */
    static List<ConversationEvent> afterConflict(List<ConversationEvent> failedRuns, List<ConversationEvent> rerun,
                                                 java.util.Set<String> storedConversations) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        List<ConversationEvent> out = new ArrayList<>();
        for (ConversationEvent e : failedRuns) {
            if (storedConversations.contains(e.conversationId()) && seen.add(e.eventId())) {
                out.add(e);
            }
        }
        for (ConversationEvent e : rerun) {
            if (seen.add(e.eventId())) {
                out.add(e);
            }
        }
        return out;
    }

    private void writeOnce(List<RecordProcessor.Prepared> prepared, List<ConversationEvent> changes) {
        try (InboxStore.Batch batch = store.openBatch()) {
            Lookups lookups = Lookups.of(prepared);
            store.prefetch(lookups.messageKeys(), lookups.identityKeys(), lookups.threadKeys());
            for (RecordProcessor.Prepared p : prepared) {
                // each record's writes in its own span, continuing the producer's trace (its events too)
                tracing.process(p.record(), changes, () -> {
                    processor.apply(p, changes, false);
                    return null;
                });
            }
            // the common writes of the slice (new contacts and threads, message keys, transcript appends,
            // conversation updates) go in one bulk write per collection, before the batch is made durable
            // and its events published
            batch.flush();
        }
    }

    @KafkaListener(id = "router-inbound", containerFactory = "routerListenerFactory",
            autoStartup = "${switchboard.router.auto-startup:true}",
            topics = "#{T(io.switchboard.contract.Topics).allInbound()}",
            groupId = "${switchboard.router.group-id}",
            properties = "group.instance.id=${switchboard.router.instance-id}-inbound")
    public void onBatch(List<ConsumerRecord<String, byte[]>> records) {
        List<CompletableFuture<?>> pending = new ArrayList<>();
        List<ConversationEvent> changes = new ArrayList<>();
        try {
            writeBatch(records, pending, changes);
        } catch (RuntimeException | Error e) {
            // what this attempt may have stored is found stored by the retry, as a repeat: count it then
            uncounted.remember(changes);
            throw e;
        }
        // a failure from here on (publishing) comes after counting: the retry's repeats are not counted again
        List<ConversationEvent> once = ConversationEvents.firstOfEachId(changes);
        countStored(once);
        pending.addAll(tracing.publish(once, events::publish));
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
    }

    /** Normalizes and writes a batch, slice by slice, and makes it durable. */
    private void writeBatch(List<ConsumerRecord<String, byte[]>> records, List<CompletableFuture<?>> pending,
                            List<ConversationEvent> changes) {
        // Normalize a slice of the batch first, then load what its writes will look up in a few queries
        // (message keys, senders, threads), then write record by record, in order. Slices end at
        // PREPARED_BYTES of payload, since prepared changes hold attachment bytes until written.
        List<RecordProcessor.Prepared> prepared = new ArrayList<>();
        long bytes = 0;
        for (ConsumerRecord<String, byte[]> record : records) {
            RecordProcessor.Prepared p = processor.prepare(record, pending);
            if (p != null) {
                prepared.add(p);
                bytes += p.envelope().payload() == null ? 0 : p.envelope().payload().length();
            }
            if (bytes >= PREPARED_BYTES) {
                write(prepared, changes);
                prepared.clear();
                bytes = 0;
            }
        }
        write(prepared, changes);
        durability.commit();
    }

    /**
     * Customer messages of attempts that failed before counting (a store error, a failed commit, a slice
     * that kept losing creation races): their writes may be stored, and then the retry reports them as
     * repeats. Kept in this process only, the latest {@link #UNCOUNTED_MAX}: the counter can still
     * undercount after a crash, or when the retry runs on another instance after a rebalance.
     */
    private final Uncounted uncounted = new Uncounted();

    static final int UNCOUNTED_MAX = 100_000;

    static final class Uncounted {
        private final java.util.Set<String> ids = java.util.Collections.newSetFromMap(
                new java.util.LinkedHashMap<String, Boolean>(16, 0.75f, false) {
                    @Override
                    protected boolean removeEldestEntry(java.util.Map.Entry<String, Boolean> eldest) {
                        return size() > UNCOUNTED_MAX;
                    }
                });

        synchronized void remember(List<ConversationEvent> changes) {
            for (ConversationEvent e : changes) {
                if (isCustomerMessage(e) && !e.data().containsKey(ConversationEvents.REDELIVERED)) {
                    ids.add(e.eventId());
                }
            }
        }

        /** Whether this event is to be counted now: a first one, or a repeat of one no attempt counted. */
        synchronized boolean count(ConversationEvent e) {
            boolean wasUncounted = ids.remove(e.eventId());
            return !e.data().containsKey(ConversationEvents.REDELIVERED) || wasUncounted;
        }
    }

    private static boolean isCustomerMessage(ConversationEvent e) {
        return ConversationEvent.MESSAGE_ADDED.equals(e.type()) && e.data() != null
                && io.switchboard.store.Message.INBOUND.equals(e.data().get("direction"));
    }

    /**
     * Counts the customer messages this batch stored, from its events once they are durable: counted
     * while writing, a slice run again after a conflict or a batch retried after a store error counted
     * its messages twice. A repeat is counted only if an attempt that failed before counting made it first.
     */
    private void countStored(List<ConversationEvent> changes) {
        for (ConversationEvent e : changes) {
            if (isCustomerMessage(e) && uncounted.count(e)) {
                meters.counter("switchboard.router.messages", "channel", e.channel().wire(), "direction", "inbound")
                        .increment();
            }
        }
    }
}
