package io.switchboard.channel.email;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.PayloadReference;
import io.switchboard.contract.Topics;
import jakarta.mail.FetchProfile;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.UIDFolder;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.search.FlagTerm;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fetches every mailbox by UID and publishes each message's raw RFC 822 bytes, unchanged, to
 * {@code inbox.inbound.email.v1}.
 *
 * <p>Nothing is missed: the cursor (UIDVALIDITY and last UID published) is kept in a compacted
 * topic ({@link EmailCursors}), so after an outage of any length every message above the cursor is
 * fetched, whatever its \Seen flag. A message is flagged \Seen (or moved) only after its bytes are
 * durably in Kafka, and the cursor moves only after that. A UIDVALIDITY change resyncs the whole
 * folder; the router drops the repeats by Message-ID. On the very first run of a mailbox only
 * unread messages are taken, so connecting a mailbox with years of history does not flood the inbox.
 *
 * <p>New mail is noticed through IMAP IDLE when the server offers it (renewed every poll-interval),
 * else by polling; any failure reconnects with exponential backoff.
 */
@Component
class EmailPoller implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(EmailPoller.class);

    /** Messages published before one flag command and one cursor write. */
    static final int BATCH = 25;
    static final long BATCH_BYTES = 32L * 1024 * 1024;

    private final EmailProperties properties;
    private final EmailCursors cursors;
    private final EmailPayloadStore payloads;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;
    private final MeterRegistry meters;
    private final Map<String, Mailbox> mailboxes = new java.util.concurrent.ConcurrentHashMap<>();
    private ScheduledExecutorService watchdog;
    private volatile boolean running;

    EmailPoller(EmailProperties properties, EmailCursors cursors, KafkaTemplate<String, byte[]> kafka,
                ObjectProvider<Clock> clock, ObjectProvider<MeterRegistry> meters, ObjectProvider<EmailPayloadStore> payloads) {
        this.properties = properties;
        this.cursors = cursors;
        this.payloads = payloads.getIfAvailable(EmailPayloadStore::new);
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.meters = meters.getIfAvailable();
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "email-idle-watchdog");
            t.setDaemon(true);
            return t;
        });
        properties.accounts().forEach((name, account) -> {
            if (account.receives()) {
                Mailbox m = new Mailbox(name, account);
                mailboxes.put(name, m);
                m.start();
            }
        });
    }

    @Override
    public synchronized void stop() {
        running = false;
        mailboxes.values().forEach(Mailbox::stop);
        mailboxes.clear();
        if (watchdog != null) {
            watchdog.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** After the Kafka producer is ready, before the web server takes traffic; stopped before Kafka closes. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 2000;
    }

    /**
     * What health and metrics show per mailbox. {@code stalledSince}: since when the mailbox has made no
     * progress while it should (worker started or first failure after the last completed sync or confirmed
     * batch); null while it is in sync. {@code errorType}: the class of the last failure, {@code lastError}
     * its message with addresses masked.
     */
    record Status(boolean connected, boolean idle, Instant lastSyncAt, long pending, long ingested, String lastError,
                  String errorType, Instant stalledSince) {
    }

    private final java.util.Set<String> gauged = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Gauges read whichever worker currently serves the account (a restart replaces the worker). */
    private void registerGauges(String name) {
        if (meters == null || !gauged.add(name)) {
            return;
        }
        Gauge.builder("switchboard.email.pending", this, p -> p.statusOf(name).pending()).tag("account", name)
                .description("messages found above the cursor and not yet published").register(meters);
        Gauge.builder("switchboard.email.last.sync", this, p -> {
            Instant t = p.statusOf(name).lastSyncAt();
            return t == null ? 0 : t.getEpochSecond();
        }).tag("account", name).description("epoch second of the last completed sync").register(meters);
        Gauge.builder("switchboard.email.ingested", this, p -> p.statusOf(name).ingested()).tag("account", name)
                .description("messages published by the current worker").register(meters);
    }

    private Status statusOf(String name) {
        Mailbox m = mailboxes.get(name);
        return m == null ? new Status(false, false, null, 0, 0, null, null, null) : m.status();
    }

    Map<String, Status> status() {
        Map<String, Status> out = new LinkedHashMap<>();
        mailboxes.forEach((name, m) -> out.put(name, m.status()));
        return out;
    }

    /** One mailbox's worker thread: connect, sync, wait for news, repeat; reconnect on any failure. */
    private final class Mailbox implements Runnable {
        private final String name;
        private final EmailProperties.Account account;
        private final String cursorKey;
        private final Thread thread;
        private final AtomicLong pending = new AtomicLong();
        private final AtomicLong ingested = new AtomicLong();
        private volatile boolean active = true;
        private volatile boolean connected;
        private volatile boolean idling;
        private volatile Instant lastSyncAt;
        private volatile String lastError;
        private volatile String errorType;
        // a worker that has not completed its first sync is not in sync yet: health counts from its start
        private volatile Instant stalledSince = clock.instant();
        private volatile IMAPStore store;
        private volatile IMAPFolder folder;

        Mailbox(String name, EmailProperties.Account account) {
            this.name = name;
            this.account = account;
            this.cursorKey = EmailCursors.key(name, account.folder());
            this.thread = new Thread(this, "email-poller-" + name);
            this.thread.setDaemon(true);
            registerGauges(name);
        }

        Status status() {
            return new Status(connected, idling, lastSyncAt, pending.get(), ingested.get(), lastError, errorType, stalledSince);
        }

        void start() {
            thread.start();
        }

        void stop() {
            active = false;
            synchronized (this) {
                notifyAll();
            }
            IMAPFolder f = folder;
            if (f != null) {
                // any command from another thread ends a running IDLE
                Thread breaker = new Thread(() -> {
                    try {
                        f.getMessageCount();
                    } catch (MessagingException | RuntimeException ignored) {
                        // closing anyway
                    }
                }, "email-idle-breaker-" + name);
                breaker.setDaemon(true);
                breaker.start();
            }
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            close();
        }

        @Override
        public void run() {
            long delay = 1000;
            while (active && running) {
                try {
                    cursors.load();
                    watch();
                    delay = 1000;
                } catch (Exception e) {
                    connected = false;
                    idling = false;
                    close();
                    if (!active || !running) {
                        break;
                    }
                    errorType = e.getClass().getSimpleName();
                    lastError = errorType + (e.getMessage() == null ? "" : ": " + masked(e.getMessage()));
                    if (stalledSince == null) {
                        stalledSince = clock.instant();
                    }
                    log.warn("email account {}: {}; reconnecting in {} ms", name, lastError, delay);
                    pause(delay);
                    delay = Math.min(delay * 2, properties.reconnectMaxDelay().toMillis());
                }
            }
        }

        private void watch() throws Exception {
            Duration renew = properties.pollInterval();
            // the socket read timeout must outlast an IDLE period
            Session session = Session.getInstance(account.imapSession(renew.plusMinutes(2)));
            IMAPStore s = (IMAPStore) session.getStore(account.imapProtocol());
            store = s;
            s.connect(EmailProperties.Account.user(account.imapUrl()), EmailProperties.Account.password(account.imapUrl()));
            IMAPFolder f = (IMAPFolder) s.getFolder(account.folder());
            f.open(Folder.READ_WRITE);
            if (account.moveTo() != null && !account.moveTo().isBlank()) {
                Folder target = s.getFolder(account.moveTo());
                if (!target.exists() && !target.create(Folder.HOLDS_MESSAGES)) {
                    throw new MessagingException("cannot create folder " + account.moveTo());
                }
            }
            folder = f;
            connected = true;
            // lastError stays until a sync completes: a mailbox that connects and then fails every sync is still failing
            boolean idle = account.useIdle() && s.hasCapability("IDLE");
            log.info("email account {}: connected to folder {} ({})", name, account.folder(), idle ? "IDLE" : "polling");
            while (active && running) {
                sync(f);
                if (idle) {
                    // Repeated, not once: a wake that runs before the IDLE command is on the wire ends
                    // nothing (Jakarta Mail only breaks an IDLE that is running, and sends no NOOP within
                    // a second of the last command), and the mailbox would then sit in IDLE until the
                    // socket timeout, blind to a message that arrived just before the IDLE began.
                    ScheduledFuture<?> wake = watchdog.scheduleWithFixedDelay(() -> {
                        try {
                            f.getMessageCount(); // ends the IDLE so it is renewed before servers drop it
                        } catch (MessagingException | RuntimeException ignored) {
                            // the worker sees the failure itself
                        }
                    }, renew.toMillis(), renew.toMillis(), TimeUnit.MILLISECONDS);
                    try {
                        idling = true;
                        f.idle(true);
                    } finally {
                        idling = false;
                        wake.cancel(false);
                    }
                } else {
                    pause(renew.toMillis());
                    f.getMessageCount(); // a NOOP that lets the server report new messages
                }
            }
        }

        private void sync(IMAPFolder f) throws Exception {
            long uidValidity = f.getUIDValidity();
            var cursor = cursors.get(cursorKey);
            Message[] candidates;
            long above;
            long baseline = -1;
            if (cursor.isEmpty()) {
                // First run of this mailbox: what nobody has read yet, and everything from now on.
                long uidNext = f.getUIDNext();
                baseline = uidNext > 0 ? uidNext - 1 : highestUid(f);
                candidates = account.initialSyncAll() ? f.getMessagesByUID(1, UIDFolder.MAXUID)
                        : f.search(new FlagTerm(new Flags(Flags.Flag.SEEN), false));
                above = 0;
            } else if (cursor.get().uidValidity() != uidValidity) {
                log.warn("email account {}: UIDVALIDITY of {} changed, resynchronising the folder", name, account.folder());
                candidates = f.getMessagesByUID(1, UIDFolder.MAXUID);
                above = 0;
            } else {
                above = cursor.get().lastUid();
                candidates = f.getMessagesByUID(above + 1, UIDFolder.MAXUID);
            }
            FetchProfile profile = new FetchProfile();
            profile.add(UIDFolder.FetchProfileItem.UID);
            profile.add(FetchProfile.Item.SIZE);
            List<Message> todo = new ArrayList<>(Arrays.stream(candidates).filter(m -> m != null && !m.isExpunged()).toList());
            f.fetch(todo.toArray(Message[]::new), profile);
            // "UID FETCH n:*" always returns the newest message, even below n: filter by UID ourselves
            todo.removeIf(m -> uid(f, m) <= above);
            todo.sort(Comparator.comparingLong(m -> uid(f, m)));
            pending.set(todo.size());
            long last = above;
            List<Sent> batch = new ArrayList<>();
            long batchBytes = 0;
            for (Message m : todo) {
                if (!active || !running) {
                    break;
                }
                Sent sent;
                try {
                    sent = publish(m, uid(f, m), uidValidity);
                } catch (EmailPayloadStore.UnavailableException e) {
                    // what was published before it is flagged; this one and the rest wait for the store
                    confirm(f, batch, uidValidity, last);
                    throw e;
                }
                batch.add(sent);
                batchBytes += sent.bytes();
                if (batch.size() >= BATCH || batchBytes >= BATCH_BYTES) {
                    last = confirm(f, batch, uidValidity, last);
                    batch.clear();
                    batchBytes = 0;
                }
            }
            last = confirm(f, batch, uidValidity, last);
            if (!active || !running) {
                return;
            }
            if (baseline > last || cursor.isEmpty() || cursor.get().uidValidity() != uidValidity) {
                cursors.save(cursorKey, new EmailCursors.Cursor(uidValidity, Math.max(last, baseline)));
            }
            lastSyncAt = clock.instant();
            inSync();
        }

        /** A completed sync or a confirmed batch: the mailbox is moving again. */
        private void inSync() {
            stalledSince = null;
            lastError = null;
            errorType = null;
        }

        /** A message handed to the producer; {@code ack} completes once the broker has it. */
        private record Sent(Message message, long uid, byte[] raw, String eventId, Map<String, String> ids, String affinity,
                            java.util.concurrent.CompletableFuture<?> ack, boolean oversized) {
            long bytes() {
                return raw.length;
            }
        }

        /**
         * Waits until the broker has every message of the batch, then flags them \Seen (or moves
         * them) in one command and only then moves the cursor. Any failure leaves flags and cursor
         * as they were, so the batch is fetched again (the router drops what it already has).
         */
        private long confirm(IMAPFolder f, List<Sent> batch, long uidValidity, long last) throws Exception {
            if (batch.isEmpty()) {
                return last;
            }
            long max = last;
            for (Sent s : batch) {
                try {
                    s.ack().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof RecordTooLargeException) || s.oversized()) {
                        throw e;
                    }
                    // the broker's record limit is below ours: store and reference it (or, without a store, reduce it)
                    log.warn("email account {}: message UID {} too large for the broker: {}", name, s.uid(),
                            payloads.configured() ? "stored and referenced" : "published without its attachments");
                    oversized(s.eventId(), s.ids(), s.affinity(), s.raw(), s.uid()).get(30, TimeUnit.SECONDS);
                }
                max = Math.max(max, s.uid());
            }
            Message[] messages = batch.stream().map(Sent::message).toArray(Message[]::new);
            if (account.moveTo() != null && !account.moveTo().isBlank()) {
                f.moveMessages(messages, store.getFolder(account.moveTo()));
            } else {
                f.setFlags(messages, new Flags(Flags.Flag.SEEN), true);
            }
            cursors.save(cursorKey, new EmailCursors.Cursor(uidValidity, max));
            pending.addAndGet(-batch.size());
            ingested.addAndGet(batch.size());
            // a long backlog after an outage is progress, not a stall
            inSync();
            return max;
        }

        private Sent publish(Message m, long uid, long uidValidity) throws Exception {
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(1024, m.getSize()));
            m.writeTo(out);
            byte[] raw = out.toByteArray();
            // headers from the bytes we hold: no second round trip to the server
            InternetHeaders headers = new InternetHeaders(new ByteArrayInputStream(raw), true);
            String messageId = headers.getHeader("Message-ID", null);
            Map<String, String> ids = new LinkedHashMap<>();
            ids.put("folder", account.folder());
            ids.put("uid", String.valueOf(uid));
            ids.put("uidValidity", String.valueOf(uidValidity));
            if (messageId != null && !messageId.isBlank()) {
                ids.put("messageId", EmailIds.strip(messageId));
            }
            if (fromSupport(headers.getHeader("From", ","))) {
                // sent by the support address itself (an agent in a mail client, a copy to self): not a customer
                ids.put("fromSupport", "true");
            }
            String affinity = "email:" + name + ":" + EmailIds.threadRoot(headers.getHeader("References", " "),
                    headers.getHeader("In-Reply-To", " "), messageId, uidValidity + ":" + uid);
            String eventId = "email:" + name + ":" + account.folder() + ":" + uidValidity + ":" + uid;
            if (raw.length > properties.maxMessageBytes()) {
                log.info("email account {}: message UID {} is {} bytes, over the limit: {}", name, uid, raw.length,
                        payloads.configured() ? "storing it and publishing a reference" : "published without its attachments (no payload store)");
                return new Sent(m, uid, raw, eventId, ids, affinity, oversized(eventId, ids, affinity, raw, uid), true);
            }
            return new Sent(m, uid, raw, eventId, ids, affinity, send(eventId, ids, affinity, raw), false);
        }

        /**
         * A message too large for a record: its bytes durably in the payload store, then a reference to them
         * (ADR 0102); without a store, the reduced form (headers, text, the list of what was left out).
         */
        private java.util.concurrent.CompletableFuture<?> oversized(String eventId, Map<String, String> ids, String affinity,
                                                                     byte[] raw, long uid) {
            if (payloads.configured()) {
                PayloadReference ref = payloads.put(raw, "message/rfc822");
                InboundEnvelope envelope = InboundEnvelope.ofText(eventId, Channel.EMAIL, name, ids, clock.instant(), affinity,
                        InboundEnvelope.CONTENT_TYPE_PAYLOAD_REF, ContractJson.toJson(ref));
                return kafka.send(Topics.inbound(Channel.EMAIL), affinity, ContractJson.toBytes(envelope));
            }
            ids.put("reducedFrom", String.valueOf(raw.length));
            return send(eventId, ids, affinity, EmailShrinker.reduce(raw, account.folder(), uid));
        }

        private boolean fromSupport(String from) {
            if (from == null || account.from() == null || account.from().isBlank()) {
                return false;
            }
            try {
                InternetAddress[] ours = InternetAddress.parseHeader(account.from(), false);
                InternetAddress[] theirs = InternetAddress.parseHeader(from, false);
                return ours.length > 0 && theirs.length > 0 && ours[0].getAddress() != null
                        && ours[0].getAddress().equalsIgnoreCase(theirs[0].getAddress());
            } catch (jakarta.mail.internet.AddressException e) {
                return false;
            }
        }

        private java.util.concurrent.CompletableFuture<?> send(String eventId, Map<String, String> ids, String affinity,
                                                                byte[] payload) {
            InboundEnvelope envelope = InboundEnvelope.ofBytes(eventId, Channel.EMAIL, name, ids, clock.instant(), affinity,
                    "message/rfc822", payload);
            return kafka.send(Topics.inbound(Channel.EMAIL), affinity, ContractJson.toBytes(envelope));
        }

        private synchronized void pause(long millis) {
            try {
                long until = System.currentTimeMillis() + millis;
                while (active && running && System.currentTimeMillis() < until) {
                    wait(Math.max(1, until - System.currentTimeMillis()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                active = false;
            }
        }

        private void close() {
            IMAPFolder f = folder;
            folder = null;
            IMAPStore s = store;
            store = null;
            try {
                if (f != null && f.isOpen()) {
                    f.close(false);
                }
            } catch (MessagingException | RuntimeException ignored) {
                // the connection is going away anyway
            }
            try {
                if (s != null) {
                    s.close();
                }
            } catch (MessagingException | RuntimeException ignored) {
                // same
            }
            connected = false;
        }
    }

    private static final java.util.regex.Pattern ADDRESS = java.util.regex.Pattern.compile("[^\\s<>\"'(),;:\\[\\]]+@[^\\s<>\"'(),;:\\[\\]]+");
    private static final java.util.regex.Pattern URL_CREDENTIALS = java.util.regex.Pattern.compile("(?i)([a-z][a-z0-9+.-]*://)[^/@\\s]+@");

    /**
     * An error message fit for logs and health: servers echo the login name (often an address) in their
     * replies, and a URL may carry credentials; both are masked.
     */
    static String masked(String message) {
        String s = URL_CREDENTIALS.matcher(message).replaceAll("$1***@");
        return ADDRESS.matcher(s).replaceAll("***@***");
    }

    private static long uid(IMAPFolder f, Message m) {
        try {
            return f.getUID(m);
        } catch (MessagingException e) {
            throw new IllegalStateException("no UID for message " + m.getMessageNumber(), e);
        }
    }

    private static long highestUid(IMAPFolder f) throws MessagingException {
        int count = f.getMessageCount();
        return count == 0 ? 0 : f.getUID(f.getMessage(count));
    }

}
