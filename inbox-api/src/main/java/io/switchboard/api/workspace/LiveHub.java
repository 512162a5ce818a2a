package io.switchboard.api.workspace;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The open Server-Sent Event streams of this instance, and broadcasting to them. A stream that
 * fails to take an event is dropped (the browser's EventSource reconnects and the page reloads
 * its data). A comment every 20 s keeps proxies from closing idle streams and finds dead ones.
 */
@Component
class LiveHub implements DisposableBean, SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(LiveHub.class);
    static final Duration STREAM_TIMEOUT = Duration.ofMinutes(30);

    private final Set<SseEmitter> emitters = ConcurrentHashMap.newKeySet();
    /** Per stream: which conversations its user may see (ADR 0142); streams without one see all. */
    private final java.util.Map<SseEmitter, java.util.function.Predicate<String>> sees = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "live-hub");
        t.setDaemon(true);
        return t;
    });

    LiveHub() {
        timer.scheduleWithFixedDelay(this::keepAlive, 20, 20, TimeUnit.SECONDS);
    }

    SseEmitter open() {
        return open(null);
    }

    /** A stream that gets only the events of conversations {@code sees} accepts (null: all). */
    SseEmitter open(java.util.function.Predicate<String> seesConversation) {
        SseEmitter emitter = new SseEmitter(STREAM_TIMEOUT.toMillis());
        emitters.add(emitter);
        if (seesConversation != null) {
            sees.put(emitter, seesConversation);
        }
        emitter.onCompletion(() -> drop(emitter));
        emitter.onTimeout(() -> drop(emitter));
        emitter.onError(e -> drop(emitter));
        try {
            emitter.send(SseEmitter.event().name("ready").data("{}", MediaType.APPLICATION_JSON).reconnectTime(3000));
        } catch (IOException | IllegalStateException e) {
            drop(emitter);
        }
        return emitter;
    }

    private void drop(SseEmitter emitter) {
        emitters.remove(emitter);
        sees.remove(emitter);
    }

    /** Sends one named event with a JSON body to every open stream. */
    void broadcast(String name, String json) {
        broadcast(name, json, null);
    }

    /** Sends one named event about a conversation to every open stream whose user may see it. */
    void broadcast(String name, String json, String conversationId) {
        for (SseEmitter emitter : emitters) {
            java.util.function.Predicate<String> filter = conversationId == null ? null : sees.get(emitter);
            try {
                if (filter != null && !filter.test(conversationId)) {
                    continue;
                }
                synchronized (emitter) {
                    emitter.send(SseEmitter.event().name(name).data(json, MediaType.APPLICATION_JSON));
                }
            } catch (IOException | IllegalStateException e) {
                drop(emitter);
                log.debug("dropped a live stream: {}", e.toString());
            }
        }
    }

    int size() {
        return emitters.size();
    }

    void schedule(Runnable task, Duration every) {
        timer.scheduleWithFixedDelay(task, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void keepAlive() {
        for (SseEmitter emitter : emitters) {
            try {
                synchronized (emitter) {
                    emitter.send(SseEmitter.event().comment("keep-alive"));
                }
            } catch (IOException | IllegalStateException e) {
                drop(emitter);
            }
        }
    }

    private volatile boolean running;

    @Override
    public void start() {
        running = true;
    }

    /**
     * Ends every open stream first thing at shutdown: the web server's graceful shutdown waits for
     * open requests, and a stream never ends by itself (browsers reconnect to another instance).
     */
    @Override
    public void stop() {
        running = false;
        emitters.forEach(e -> {
            try {
                e.complete();
            } catch (RuntimeException ignored) {
                // already gone
            }
        });
        emitters.clear();
        sees.clear();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return Integer.MAX_VALUE;
    }

    @Override
    public void destroy() {
        timer.shutdownNow();
        emitters.forEach(SseEmitter::complete);
        emitters.clear();
        sees.clear();
    }
}
