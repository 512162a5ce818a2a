package io.switchboard.api.contacts;

import io.switchboard.api.ApiException;
import io.switchboard.store.Contact;
import io.switchboard.store.InboxStore;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** A contact with every channel identity known for them. */
@RestController
class ContactController {

    private final InboxStore store;

    ContactController(InboxStore store) {
        this.store = store;
    }

    @GetMapping("/api/contacts/{id}")
    Contact get(@PathVariable String id) {
        return store.contact(id).orElseThrow(() -> ApiException.notFound("no contact " + id));
    }
}
