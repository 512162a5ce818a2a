package io.switchboard.router.ingest;

import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CallRecord;
import io.switchboard.router.normalize.DomainChange.ContactUpdate;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.DeliveryReceipt;
import io.switchboard.router.normalize.DomainChange.MessageEdited;
import io.switchboard.router.normalize.DomainChange.OwnMessageEchoed;
import io.switchboard.store.Identity;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The keys a batch's changes will look up in the store, so that they can be read in one query per
 * collection before the writes (see {@code InboxStore#prefetch}). Missing a key costs a round trip
 * later, never correctness.
 */
record Lookups(Set<String> messageKeys, Set<String> identityKeys, Set<String> threadKeys) {

    static Lookups of(List<RecordProcessor.Prepared> batch) {
        Lookups l = new Lookups(new LinkedHashSet<>(), new LinkedHashSet<>(), new LinkedHashSet<>());
        for (RecordProcessor.Prepared p : batch) {
            for (DomainChange change : p.changes()) {
                l.add(change);
            }
        }
        return l;
    }

    private void add(DomainChange change) {
        if (change instanceof CustomerMessage m) {
            messageKeys.add(m.messageKey());
            identity(m.sender());
            thread(m.thread());
        } else if (change instanceof MessageEdited e) {
            messageKeys.add(e.messageKey());
        } else if (change instanceof OwnMessageEchoed e) {
            messageKeys.add(e.messageKey());
            identity(e.recipient());
            thread(e.thread());
        } else if (change instanceof DeliveryReceipt r) {
            messageKeys.addAll(r.messageKeys());
            identity(r.recipient());
        } else if (change instanceof CallRecord c) {
            messageKeys.add(c.callKey());
            identity(c.customer());
            thread(c.thread());
        } else if (change instanceof ContactUpdate u) {
            identity(u.identity());
        }
    }

    private void identity(Identity identity) {
        if (identity != null) {
            identityKeys.add(identity.key());
        }
    }

    private void thread(DomainChange.Thread thread) {
        if (thread != null) {
            threadKeys.add(thread.threadKey());
            threadKeys.addAll(thread.lookupKeys());
        }
    }
}
